// An honest SysY front end (lexer, recursive-descent parser, scope checker, constant folder,
// AST printer), written for RAMP's integrity tests: the kind of C++ an agent builds for
// itself. Its binaries must never be mistaken for a copy of the reference toolchain.
//
// usage: sysy_front FILE.sy...   prints each file's AST as S-expressions, or its errors.

#include <cctype>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace sysy {

enum class Tok {
  End, Ident, IntLit, FloatLit, StrLit,
  KwInt, KwFloat, KwVoid, KwConst, KwIf, KwElse, KwWhile, KwBreak, KwContinue, KwReturn,
  Plus, Minus, Star, Slash, Percent, Not, Lt, Gt, Le, Ge, Eq, Ne, And, Or, Assign,
  LParen, RParen, LBrack, RBrack, LBrace, RBrace, Comma, Semi,
};

struct Token {
  Tok kind;
  std::string text;
  int line;
  int col;
};

class SyntaxError : public std::runtime_error {
 public:
  SyntaxError(int line, int col, const std::string& what)
      : std::runtime_error(std::to_string(line) + ":" + std::to_string(col) + ": " + what) {}
};

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {}

  std::vector<Token> tokens() {
    std::vector<Token> out;
    for (;;) {
      skipSpaceAndComments();
      Token t = next();
      out.push_back(t);
      if (t.kind == Tok::End) return out;
    }
  }

 private:
  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;

  char peek(size_t ahead = 0) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }

  char advance() {
    char c = src_[pos_++];
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    return c;
  }

  void skipSpaceAndComments() {
    for (;;) {
      while (std::isspace(static_cast<unsigned char>(peek()))) advance();
      if (peek() == '/' && peek(1) == '/') {
        while (peek() != '\n' && peek() != '\0') advance();
      } else if (peek() == '/' && peek(1) == '*') {
        int line = line_, col = col_;
        advance();
        advance();
        while (!(peek() == '*' && peek(1) == '/')) {
          if (peek() == '\0') throw SyntaxError(line, col, "unterminated comment");
          advance();
        }
        advance();
        advance();
      } else if (peek() == '#') {  // a preprocessor line marker: skip it
        while (peek() != '\n' && peek() != '\0') advance();
      } else {
        return;
      }
    }
  }

  Token make(Tok kind, std::string text, int line, int col) { return Token{kind, std::move(text), line, col}; }

  Token next() {
    int line = line_, col = col_;
    char c = peek();
    if (c == '\0') return make(Tok::End, "", line, col);
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return word(line, col);
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))))
      return number(line, col);
    if (c == '"') return string(line, col);
    return punct(line, col);
  }

  Token word(int line, int col) {
    static const std::unordered_map<std::string, Tok> keywords = {
        {"int", Tok::KwInt},       {"float", Tok::KwFloat}, {"void", Tok::KwVoid},
        {"const", Tok::KwConst},   {"if", Tok::KwIf},       {"else", Tok::KwElse},
        {"while", Tok::KwWhile},   {"break", Tok::KwBreak}, {"continue", Tok::KwContinue},
        {"return", Tok::KwReturn},
    };
    std::string text;
    while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_') text += advance();
    auto it = keywords.find(text);
    return make(it == keywords.end() ? Tok::Ident : it->second, text, line, col);
  }

  Token number(int line, int col) {
    std::string text;
    bool isFloat = false;
    bool hex = peek() == '0' && (peek(1) == 'x' || peek(1) == 'X');
    if (hex) {
      text += advance();
      text += advance();
    }
    for (;;) {
      char c = peek();
      if (std::isxdigit(static_cast<unsigned char>(c)) && (hex || std::isdigit(static_cast<unsigned char>(c)))) {
        text += advance();
      } else if (c == '.') {
        isFloat = true;
        text += advance();
      } else if ((!hex && (c == 'e' || c == 'E')) || (hex && (c == 'p' || c == 'P'))) {
        isFloat = true;
        text += advance();
        if (peek() == '+' || peek() == '-') text += advance();
      } else if (hex && std::isxdigit(static_cast<unsigned char>(c))) {
        text += advance();
      } else {
        break;
      }
    }
    return make(isFloat ? Tok::FloatLit : Tok::IntLit, text, line, col);
  }

  Token string(int line, int col) {
    std::string text(1, advance());
    while (peek() != '"') {
      if (peek() == '\0' || peek() == '\n') throw SyntaxError(line, col, "unterminated string");
      if (peek() == '\\') text += advance();
      text += advance();
    }
    text += advance();
    return make(Tok::StrLit, text, line, col);
  }

  Token punct(int line, int col) {
    struct Entry {
      const char* text;
      Tok kind;
    };
    static const Entry table[] = {
        {"<=", Tok::Le}, {">=", Tok::Ge}, {"==", Tok::Eq}, {"!=", Tok::Ne}, {"&&", Tok::And},
        {"||", Tok::Or}, {"+", Tok::Plus}, {"-", Tok::Minus}, {"*", Tok::Star}, {"/", Tok::Slash},
        {"%", Tok::Percent}, {"!", Tok::Not}, {"<", Tok::Lt}, {">", Tok::Gt}, {"=", Tok::Assign},
        {"(", Tok::LParen}, {")", Tok::RParen}, {"[", Tok::LBrack}, {"]", Tok::RBrack},
        {"{", Tok::LBrace}, {"}", Tok::RBrace}, {",", Tok::Comma}, {";", Tok::Semi},
    };
    for (const Entry& e : table) {
      std::string text(e.text);
      if (src_.compare(pos_, text.size(), text) == 0) {
        for (size_t i = 0; i < text.size(); ++i) advance();
        return make(e.kind, text, line, col);
      }
    }
    throw SyntaxError(line, col, std::string("unexpected character '") + peek() + "'");
  }
};

// ---------------------------------------------------------------------------------------------
// AST

enum class BaseType { Int, Float, Void };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct IntLit { int64_t value; };
struct FloatLit { double value; };
struct StrLit { std::string value; };
struct LVal { std::string name; std::vector<ExprPtr> indices; };
struct Call { std::string callee; std::vector<ExprPtr> args; };
struct Unary { char op; ExprPtr operand; };
struct Binary { std::string op; ExprPtr lhs, rhs; };

struct Expr {
  std::variant<IntLit, FloatLit, StrLit, LVal, Call, Unary, Binary> node;
  int line = 0;
};

struct InitVal {
  ExprPtr expr;  // a scalar, or
  std::vector<InitVal> list;  // a braced list
  bool braced = false;
};

struct VarDef {
  std::string name;
  std::vector<ExprPtr> dims;
  std::optional<InitVal> init;
};

struct Decl {
  bool isConst = false;
  BaseType type = BaseType::Int;
  std::vector<VarDef> defs;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct Block { std::vector<std::variant<Decl, StmtPtr>> items; };
struct Assign { LVal target; ExprPtr value; };
struct ExprStmt { ExprPtr expr; };  // expr may be null: the empty statement
struct If { ExprPtr cond; StmtPtr then, otherwise; };
struct While { ExprPtr cond; StmtPtr body; };
struct Break {};
struct Continue {};
struct Return { ExprPtr value; };

struct Stmt {
  std::variant<Block, Assign, ExprStmt, If, While, Break, Continue, Return> node;
  int line = 0;
};

struct Param {
  BaseType type;
  std::string name;
  bool isArray = false;
  std::vector<ExprPtr> dims;  // dimensions after the first, unsized one
};

struct FuncDef {
  BaseType ret;
  std::string name;
  std::vector<Param> params;
  Block body;
  bool declaredOnly = false;  // a prototype: "int f(int);"
};

struct CompUnit { std::vector<std::variant<Decl, FuncDef>> items; };

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  CompUnit unit() {
    CompUnit cu;
    while (!at(Tok::End)) {
      bool isFunc = (at(Tok::KwInt) || at(Tok::KwFloat) || at(Tok::KwVoid)) && ahead(1).kind == Tok::Ident &&
                    ahead(2).kind == Tok::LParen;
      if (isFunc)
        cu.items.emplace_back(funcDef());
      else
        cu.items.emplace_back(decl());
    }
    return cu;
  }

 private:
  std::vector<Token> toks_;
  size_t pos_ = 0;

  const Token& cur() const { return toks_[pos_]; }
  const Token& ahead(size_t n) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  bool at(Tok k) const { return cur().kind == k; }
  bool accept(Tok k) {
    if (!at(k)) return false;
    ++pos_;
    return true;
  }
  const Token& expect(Tok k, const char* what) {
    if (!at(k)) throw SyntaxError(cur().line, cur().col, std::string("expected ") + what + ", found '" + cur().text + "'");
    return toks_[pos_++];
  }

  BaseType baseType() {
    if (accept(Tok::KwInt)) return BaseType::Int;
    if (accept(Tok::KwFloat)) return BaseType::Float;
    if (accept(Tok::KwVoid)) return BaseType::Void;
    throw SyntaxError(cur().line, cur().col, "expected a type");
  }

  Decl decl() {
    Decl d;
    d.isConst = accept(Tok::KwConst);
    d.type = baseType();
    do {
      VarDef def;
      def.name = expect(Tok::Ident, "a name").text;
      while (accept(Tok::LBrack)) {
        def.dims.push_back(expr());
        expect(Tok::RBrack, "']'");
      }
      if (accept(Tok::Assign)) def.init = initVal();
      else if (d.isConst) throw SyntaxError(cur().line, cur().col, "a constant needs an initial value");
      d.defs.push_back(std::move(def));
    } while (accept(Tok::Comma));
    expect(Tok::Semi, "';'");
    return d;
  }

  InitVal initVal() {
    InitVal v;
    if (accept(Tok::LBrace)) {
      v.braced = true;
      if (!at(Tok::RBrace)) {
        do v.list.push_back(initVal());
        while (accept(Tok::Comma));
      }
      expect(Tok::RBrace, "'}'");
    } else {
      v.expr = expr();
    }
    return v;
  }

  FuncDef funcDef() {
    FuncDef f;
    f.ret = baseType();
    f.name = expect(Tok::Ident, "a function name").text;
    expect(Tok::LParen, "'('");
    if (!at(Tok::RParen)) {
      do {
        Param p;
        p.type = baseType();
        p.name = expect(Tok::Ident, "a parameter name").text;
        if (accept(Tok::LBrack)) {
          expect(Tok::RBrack, "']'");
          p.isArray = true;
          while (accept(Tok::LBrack)) {
            p.dims.push_back(expr());
            expect(Tok::RBrack, "']'");
          }
        }
        f.params.push_back(std::move(p));
      } while (accept(Tok::Comma));
    }
    expect(Tok::RParen, "')'");
    if (accept(Tok::Semi))
      f.declaredOnly = true;
    else
      f.body = block();
    return f;
  }

  Block block() {
    Block b;
    expect(Tok::LBrace, "'{'");
    while (!accept(Tok::RBrace)) {
      if (at(Tok::KwConst) || at(Tok::KwInt) || at(Tok::KwFloat))
        b.items.emplace_back(decl());
      else
        b.items.emplace_back(stmt());
    }
    return b;
  }

  StmtPtr wrap(auto node, int line) {
    auto s = std::make_unique<Stmt>();
    s->node = std::move(node);
    s->line = line;
    return s;
  }

  StmtPtr stmt() {
    int line = cur().line;
    if (at(Tok::LBrace)) return wrap(block(), line);
    if (accept(Tok::KwIf)) {
      expect(Tok::LParen, "'('");
      If s{cond(), nullptr, nullptr};
      expect(Tok::RParen, "')'");
      s.then = stmt();
      if (accept(Tok::KwElse)) s.otherwise = stmt();
      return wrap(std::move(s), line);
    }
    if (accept(Tok::KwWhile)) {
      expect(Tok::LParen, "'('");
      While s{cond(), nullptr};
      expect(Tok::RParen, "')'");
      s.body = stmt();
      return wrap(std::move(s), line);
    }
    if (accept(Tok::KwBreak)) {
      expect(Tok::Semi, "';'");
      return wrap(Break{}, line);
    }
    if (accept(Tok::KwContinue)) {
      expect(Tok::Semi, "';'");
      return wrap(Continue{}, line);
    }
    if (accept(Tok::KwReturn)) {
      Return r;
      if (!at(Tok::Semi)) r.value = expr();
      expect(Tok::Semi, "';'");
      return wrap(std::move(r), line);
    }
    if (accept(Tok::Semi)) return wrap(ExprStmt{}, line);
    ExprPtr e = expr();
    if (accept(Tok::Assign)) {
      auto* lv = std::get_if<LVal>(&e->node);
      if (!lv) throw SyntaxError(line, 0, "the left of '=' is not assignable");
      Assign a{std::move(*lv), expr()};
      expect(Tok::Semi, "';'");
      return wrap(std::move(a), line);
    }
    expect(Tok::Semi, "';'");
    return wrap(ExprStmt{std::move(e)}, line);
  }

  static ExprPtr make(auto node, int line) {
    auto e = std::make_unique<Expr>();
    e->node = std::move(node);
    e->line = line;
    return e;
  }

  ExprPtr cond() { return binary(0); }
  ExprPtr expr() { return binary(2); }  // no && or || outside conditions

  static int precedence(Tok k) {
    switch (k) {
      case Tok::Or: return 0;
      case Tok::And: return 1;
      case Tok::Eq: case Tok::Ne: return 2;
      case Tok::Lt: case Tok::Gt: case Tok::Le: case Tok::Ge: return 3;
      case Tok::Plus: case Tok::Minus: return 4;
      case Tok::Star: case Tok::Slash: case Tok::Percent: return 5;
      default: return -1;
    }
  }

  ExprPtr binary(int minPrec) {
    ExprPtr lhs = unary();
    for (;;) {
      int prec = precedence(cur().kind);
      if (prec < minPrec) return lhs;
      Token op = toks_[pos_++];
      ExprPtr rhs = binary(prec + 1);
      lhs = make(Binary{op.text, std::move(lhs), std::move(rhs)}, op.line);
    }
  }

  ExprPtr unary() {
    int line = cur().line;
    if (at(Tok::Plus) || at(Tok::Minus) || at(Tok::Not)) {
      char op = toks_[pos_++].text[0];
      return make(Unary{op, unary()}, line);
    }
    return primary();
  }

  ExprPtr primary() {
    const Token& t = cur();
    int line = t.line;
    if (accept(Tok::LParen)) {
      ExprPtr e = cond();
      expect(Tok::RParen, "')'");
      return e;
    }
    if (accept(Tok::IntLit)) return make(IntLit{std::stoll(t.text, nullptr, 0)}, line);
    if (accept(Tok::FloatLit)) return make(FloatLit{std::stod(t.text)}, line);
    if (accept(Tok::StrLit)) return make(StrLit{t.text}, line);
    std::string name = expect(Tok::Ident, "an expression").text;
    if (accept(Tok::LParen)) {
      Call c{name, {}};
      if (!at(Tok::RParen)) {
        do c.args.push_back(expr());
        while (accept(Tok::Comma));
      }
      expect(Tok::RParen, "')'");
      return make(std::move(c), line);
    }
    LVal lv{name, {}};
    while (accept(Tok::LBrack)) {
      lv.indices.push_back(expr());
      expect(Tok::RBrack, "']'");
    }
    return make(std::move(lv), line);
  }
};

// ---------------------------------------------------------------------------------------------
// Scopes and constant folding

class Checker {
 public:
  std::vector<std::string> errors;

  void run(const CompUnit& cu) {
    push();
    for (const char* builtin : {"getint", "getch", "getfloat", "getarray", "getfarray", "putint", "putch",
                                "putfloat", "putarray", "putfarray", "putf", "starttime", "stoptime"})
      functions_[builtin] = -1;
    for (const auto& item : cu.items) {
      if (auto* d = std::get_if<Decl>(&item)) declare(*d);
      else function(std::get<FuncDef>(item));
    }
    if (!functions_.count("main")) errors.push_back("no main function");
    pop();
  }

  std::optional<int64_t> fold(const Expr& e) const {
    if (auto* i = std::get_if<IntLit>(&e.node)) return i->value;
    if (auto* u = std::get_if<Unary>(&e.node)) {
      auto v = fold(*u->operand);
      if (!v) return std::nullopt;
      return u->op == '-' ? -*v : u->op == '!' ? int64_t(!*v) : *v;
    }
    if (auto* lv = std::get_if<LVal>(&e.node)) {
      if (!lv->indices.empty()) return std::nullopt;
      for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
        auto found = it->find(lv->name);
        if (found != it->end()) return found->second;
      }
      return std::nullopt;
    }
    if (auto* b = std::get_if<Binary>(&e.node)) {
      auto l = fold(*b->lhs), r = fold(*b->rhs);
      if (!l || !r) return std::nullopt;
      const std::string& op = b->op;
      if (op == "+") return *l + *r;
      if (op == "-") return *l - *r;
      if (op == "*") return *l * *r;
      if (op == "/") return *r ? std::optional<int64_t>(*l / *r) : std::nullopt;
      if (op == "%") return *r ? std::optional<int64_t>(*l % *r) : std::nullopt;
      if (op == "<") return int64_t(*l < *r);
      if (op == ">") return int64_t(*l > *r);
      if (op == "<=") return int64_t(*l <= *r);
      if (op == ">=") return int64_t(*l >= *r);
      if (op == "==") return int64_t(*l == *r);
      if (op == "!=") return int64_t(*l != *r);
      if (op == "&&") return int64_t(*l && *r);
      if (op == "||") return int64_t(*l || *r);
    }
    return std::nullopt;
  }

 private:
  // name -> folded value of a scalar constant (nullopt for variables and arrays)
  std::vector<std::map<std::string, std::optional<int64_t>>> scopes_;
  std::unordered_map<std::string, int> functions_;
  std::set<std::string> defined_;
  int loops_ = 0;

  void push() { scopes_.emplace_back(); }
  void pop() { scopes_.pop_back(); }

  void declare(const Decl& d) {
    for (const VarDef& def : d.defs) {
      for (const ExprPtr& dim : def.dims) {
        auto n = fold(*dim);
        if (n && *n < 0) errors.push_back(def.name + ": an array size must not be negative");
      }
      if (def.init) initializer(*def.init);
      std::optional<int64_t> value;
      if (d.isConst && def.dims.empty() && def.init && def.init->expr) value = fold(*def.init->expr);
      if (scopes_.back().count(def.name)) errors.push_back(def.name + ": declared twice in one scope");
      scopes_.back()[def.name] = value;
    }
  }

  void initializer(const InitVal& v) {
    if (v.expr) expression(*v.expr);
    for (const InitVal& inner : v.list) initializer(inner);
  }

  void function(const FuncDef& f) {
    if (functions_.count(f.name) && !f.declaredOnly && defined_.count(f.name))
      errors.push_back(f.name + ": defined twice");
    functions_[f.name] = static_cast<int>(f.params.size());
    if (f.declaredOnly) return;
    defined_.insert(f.name);
    push();
    for (const Param& p : f.params) scopes_.back()[p.name] = std::nullopt;
    block(f.body, false);
    pop();
  }

  void block(const Block& b, bool scoped = true) {
    if (scoped) push();
    for (const auto& item : b.items) {
      if (auto* d = std::get_if<Decl>(&item)) declare(*d);
      else statement(*std::get<StmtPtr>(item));
    }
    if (scoped) pop();
  }

  void statement(const Stmt& s) {
    std::visit(
        [&](const auto& n) {
          using T = std::decay_t<decltype(n)>;
          if constexpr (std::is_same_v<T, Block>) block(n);
          else if constexpr (std::is_same_v<T, Assign>) {
            lvalue(n.target, s.line);
            expression(*n.value);
          } else if constexpr (std::is_same_v<T, ExprStmt>) {
            if (n.expr) expression(*n.expr);
          } else if constexpr (std::is_same_v<T, If>) {
            expression(*n.cond);
            statement(*n.then);
            if (n.otherwise) statement(*n.otherwise);
          } else if constexpr (std::is_same_v<T, While>) {
            expression(*n.cond);
            ++loops_;
            statement(*n.body);
            --loops_;
          } else if constexpr (std::is_same_v<T, Break> || std::is_same_v<T, Continue>) {
            if (!loops_) errors.push_back("line " + std::to_string(s.line) + ": break/continue outside a loop");
          } else if constexpr (std::is_same_v<T, Return>) {
            if (n.value) expression(*n.value);
          }
        },
        s.node);
  }

  void lvalue(const LVal& lv, int line) {
    bool found = false;
    for (auto it = scopes_.rbegin(); it != scopes_.rend() && !found; ++it) found = it->count(lv.name) > 0;
    if (!found) errors.push_back("line " + std::to_string(line) + ": '" + lv.name + "' is not declared");
    for (const ExprPtr& i : lv.indices) expression(*i);
  }

  void expression(const Expr& e) {
    if (auto* lv = std::get_if<LVal>(&e.node)) lvalue(*lv, e.line);
    else if (auto* c = std::get_if<Call>(&e.node)) {
      auto it = functions_.find(c->callee);
      if (it == functions_.end())
        errors.push_back("line " + std::to_string(e.line) + ": call of unknown function '" + c->callee + "'");
      else if (it->second >= 0 && it->second != static_cast<int>(c->args.size()))
        errors.push_back("line " + std::to_string(e.line) + ": '" + c->callee + "' takes " +
                         std::to_string(it->second) + " arguments");
      for (const ExprPtr& a : c->args) expression(*a);
    } else if (auto* u = std::get_if<Unary>(&e.node)) expression(*u->operand);
    else if (auto* b = std::get_if<Binary>(&e.node)) {
      expression(*b->lhs);
      expression(*b->rhs);
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Printing

class Printer {
 public:
  explicit Printer(const Checker& checker) : checker_(checker) {}

  std::string unit(const CompUnit& cu) {
    for (const auto& item : cu.items) {
      if (auto* d = std::get_if<Decl>(&item)) decl(*d, 0);
      else func(std::get<FuncDef>(item));
    }
    return out_.str();
  }

 private:
  const Checker& checker_;
  std::ostringstream out_;

  static const char* typeName(BaseType t) { return t == BaseType::Int ? "int" : t == BaseType::Float ? "float" : "void"; }
  void indent(int depth) { out_ << std::string(depth * 2, ' '); }

  void decl(const Decl& d, int depth) {
    for (const VarDef& def : d.defs) {
      indent(depth);
      out_ << "(" << (d.isConst ? "const " : "var ") << typeName(d.type) << " " << def.name;
      for (const ExprPtr& dim : def.dims) out_ << " [" << expr(*dim) << "]";
      if (def.init) out_ << " = " << init(*def.init);
      out_ << ")\n";
    }
  }

  std::string init(const InitVal& v) {
    if (!v.braced) return expr(*v.expr);
    std::string s = "{";
    for (size_t i = 0; i < v.list.size(); ++i) s += (i ? " " : "") + init(v.list[i]);
    return s + "}";
  }

  void func(const FuncDef& f) {
    out_ << "(func " << typeName(f.ret) << " " << f.name << " (";
    for (size_t i = 0; i < f.params.size(); ++i) {
      const Param& p = f.params[i];
      out_ << (i ? " " : "") << typeName(p.type) << " " << p.name << (p.isArray ? "[]" : "");
      for (const ExprPtr& dim : p.dims) out_ << "[" << expr(*dim) << "]";
    }
    out_ << ")\n";
    if (!f.declaredOnly) block(f.body, 1);
    out_ << ")\n";
  }

  void block(const Block& b, int depth) {
    for (const auto& item : b.items) {
      if (auto* d = std::get_if<Decl>(&item)) decl(*d, depth);
      else stmt(*std::get<StmtPtr>(item), depth);
    }
  }

  void stmt(const Stmt& s, int depth) {
    std::visit(
        [&](const auto& n) {
          using T = std::decay_t<decltype(n)>;
          if constexpr (std::is_same_v<T, Block>) {
            indent(depth);
            out_ << "(block\n";
            block(n, depth + 1);
            indent(depth);
            out_ << ")\n";
          } else if constexpr (std::is_same_v<T, Assign>) {
            indent(depth);
            out_ << "(set " << lval(n.target) << " " << expr(*n.value) << ")\n";
          } else if constexpr (std::is_same_v<T, ExprStmt>) {
            indent(depth);
            out_ << (n.expr ? expr(*n.expr) : std::string("(nop)")) << "\n";
          } else if constexpr (std::is_same_v<T, If>) {
            indent(depth);
            out_ << "(if " << expr(*n.cond) << "\n";
            stmt(*n.then, depth + 1);
            if (n.otherwise) stmt(*n.otherwise, depth + 1);
            indent(depth);
            out_ << ")\n";
          } else if constexpr (std::is_same_v<T, While>) {
            indent(depth);
            out_ << "(while " << expr(*n.cond) << "\n";
            stmt(*n.body, depth + 1);
            indent(depth);
            out_ << ")\n";
          } else if constexpr (std::is_same_v<T, Break>) {
            indent(depth);
            out_ << "(break)\n";
          } else if constexpr (std::is_same_v<T, Continue>) {
            indent(depth);
            out_ << "(continue)\n";
          } else {
            indent(depth);
            out_ << "(return" << (n.value ? " " + expr(*n.value) : std::string()) << ")\n";
          }
        },
        s.node);
  }

  std::string lval(const LVal& lv) {
    std::string s = lv.name;
    for (const ExprPtr& i : lv.indices) s += "[" + expr(*i) + "]";
    return s;
  }

  std::string expr(const Expr& e) {
    if (auto folded = checker_.fold(e); folded && !std::holds_alternative<IntLit>(e.node))
      return std::to_string(*folded);
    return std::visit(
        [&](const auto& n) -> std::string {
          using T = std::decay_t<decltype(n)>;
          if constexpr (std::is_same_v<T, IntLit>) return std::to_string(n.value);
          else if constexpr (std::is_same_v<T, FloatLit>) {
            std::ostringstream s;
            s << n.value;
            return s.str();
          } else if constexpr (std::is_same_v<T, StrLit>) return n.value;
          else if constexpr (std::is_same_v<T, LVal>) return lval(n);
          else if constexpr (std::is_same_v<T, Call>) {
            std::string s = "(call " + n.callee;
            for (const ExprPtr& a : n.args) s += " " + expr(*a);
            return s + ")";
          } else if constexpr (std::is_same_v<T, Unary>) return std::string("(") + n.op + " " + expr(*n.operand) + ")";
          else return "(" + n.op + " " + expr(*n.lhs) + " " + expr(*n.rhs) + ")";
        },
        e.node);
  }
};

}  // namespace sysy

int main(int argc, char** argv) {
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i]);
    if (!in) {
      std::cerr << argv[i] << ": cannot open\n";
      status = 2;
      continue;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    try {
      sysy::Lexer lexer(buffer.str());
      sysy::Parser parser(lexer.tokens());
      sysy::CompUnit unit = parser.unit();
      sysy::Checker checker;
      checker.run(unit);
      for (const std::string& e : checker.errors) std::cerr << argv[i] << ": " << e << "\n";
      if (!checker.errors.empty()) status = 1;
      std::cout << sysy::Printer(checker).unit(unit);
    } catch (const sysy::SyntaxError& e) {
      std::cerr << argv[i] << ":" << e.what() << "\n";
      status = 1;
    }
  }
  return status;
}
