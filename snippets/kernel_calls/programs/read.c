#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char buf[4096];
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0)
        return 1;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n > 0)
        write(1, buf, n);
    return n < 0;
}
