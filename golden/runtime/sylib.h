/* RAMP SysY runtime interface. Pre-included before every SysY source. */
int getint();
int getch();
int getarray(int a[]);
void putint(int a);
void putch(int a);
void putarray(int n, int a[]);
void _sysy_starttime(int line);
void _sysy_stoptime(int line);
#define starttime() _sysy_starttime(__LINE__)
#define stoptime() _sysy_stoptime(__LINE__)
