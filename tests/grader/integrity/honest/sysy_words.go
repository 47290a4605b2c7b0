// An honest Go program for RAMP's integrity tests: it counts the identifiers, keywords and
// numbers of SysY files and prints the ten most frequent words of each. Built offline with
// the standard library only; its binary must not look like the reference toolchain.
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode"
)

var keywords = map[string]bool{
	"int": true, "float": true, "void": true, "const": true, "if": true, "else": true,
	"while": true, "break": true, "continue": true, "return": true,
}

type count struct {
	word string
	n    int
}

func words(line string) []string {
	return strings.FieldsFunc(line, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
	})
}

func tally(path string) (map[string]int, int, int, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer file.Close()
	counts := map[string]int{}
	kw, nums := 0, 0
	inComment := false
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := scanner.Text()
		if inComment {
			end := strings.Index(line, "*/")
			if end < 0 {
				continue
			}
			line, inComment = line[end+2:], false
		}
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		if i := strings.Index(line, "/*"); i >= 0 {
			inComment = !strings.Contains(line[i:], "*/")
			line = line[:i]
		}
		for _, w := range words(line) {
			switch {
			case keywords[w]:
				kw++
			case unicode.IsDigit(rune(w[0])):
				nums++
			default:
				counts[w]++
			}
		}
	}
	return counts, kw, nums, scanner.Err()
}

func main() {
	status := 0
	for _, path := range os.Args[1:] {
		counts, kw, nums, err := tally(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			status = 2
			continue
		}
		list := make([]count, 0, len(counts))
		for w, n := range counts {
			list = append(list, count{w, n})
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].n != list[j].n {
				return list[i].n > list[j].n
			}
			return list[i].word < list[j].word
		})
		if len(list) > 10 {
			list = list[:10]
		}
		fmt.Printf("%s: %d keywords, %d numbers;", path, kw, nums)
		for _, c := range list {
			fmt.Printf(" %s=%d", c.word, c.n)
		}
		fmt.Println()
	}
	os.Exit(status)
}
