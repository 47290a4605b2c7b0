/* Built statically and run INSIDE a sandbox: one system call per run, named by argv[1],
 * with its result printed as "<action> <result or -errno>". Under a solitary policy the
 * forbidden ones never print: the process dies of SIGSYS (exit status 159).
 * Usage: solitary_probe ACTION [PATH [PATH2]] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int show(const char *action, long result) {
    printf("%s %ld\n", action, result < 0 ? -(long)errno : result);
    return 0;
}

static long write_file(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    long written = write(fd, "forged\n", 7);
    close(fd);
    return written;
}

static long map_code(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    void *at = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    return at == MAP_FAILED ? -1 : 0;
}

int main(int argc, char **argv) {
    const char *a = argc > 1 ? argv[1] : "";
    const char *p = argc > 2 ? argv[2] : "/tmp/x";
    const char *q = argc > 3 ? argv[3] : "/tmp/y";
    struct rlimit tiny = {1, 1};
    if (!strcmp(a, "env")) {
        for (char **e = environ; *e; e++)
            puts(*e);
        return 0;
    }
    if (!strcmp(a, "write"))
        return show(a, write_file(p));
    if (!strcmp(a, "tmpfile"))
        return show(a, write_file(p) < 0 ? -1 : unlink(p));
    if (!strcmp(a, "unlink"))
        return show(a, unlink(p));
    if (!strcmp(a, "mapcode"))
        return show(a, map_code(p));
    if (!strcmp(a, "exec"))
        return show(a, execl(p, p, (char *)NULL));
    if (!strcmp(a, "killself"))
        return show(a, kill(getpid(), 0));
    if (!strcmp(a, "fork"))
        return show(a, syscall(SYS_fork));
    if (!strcmp(a, "clone"))
        return show(a, syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
    if (!strcmp(a, "killother"))
        return show(a, kill(1, 0));
    if (!strcmp(a, "chmod"))
        return show(a, chmod(p, 0444));
    if (!strcmp(a, "mkfifo"))
        return show(a, mkfifo(p, 0600));
    if (!strcmp(a, "symlink"))
        return show(a, symlink(q, p));
    if (!strcmp(a, "rename"))
        return show(a, rename(p, q));
    if (!strcmp(a, "socket"))
        return show(a, socket(AF_UNIX, SOCK_STREAM, 0));
    if (!strcmp(a, "fsize"))
        return show(a, setrlimit(RLIMIT_FSIZE, &tiny));
    if (!strcmp(a, "seccomp")) {
        unsigned int kill_process = 0x80000000U; /* SECCOMP_GET_ACTION_AVAIL: a harmless query */
        return show(a, syscall(SYS_seccomp, 2, 0, &kill_process));
    }
    fprintf(stderr, "unknown action %s\n", a);
    return 2;
}
