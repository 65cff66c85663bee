// Socket calls whose addresses the kernel records in SOCKADDR records (connect/bind/sendto).
// Every call may fail; only the address the kernel copied in matters.
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>

int main(void) {
    int fd;
    // inet: connect to 127.0.0.1:9 (discard; nothing listens, ECONNREFUSED)
    struct sockaddr_in in4; memset(&in4, 0, sizeof in4);
    in4.sin_family = AF_INET; in4.sin_port = htons(9); in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0); connect(fd, (struct sockaddr *)&in4, sizeof in4); close(fd);
    // inet: UDP sendto 127.0.0.1:53
    in4.sin_port = htons(53);
    fd = socket(AF_INET, SOCK_DGRAM, 0); sendto(fd, "x", 1, 0, (struct sockaddr *)&in4, sizeof in4); close(fd);
    // inet: an address too short for sockaddr_in (EINVAL, the kernel still records the bytes)
    fd = socket(AF_INET, SOCK_STREAM, 0); connect(fd, (struct sockaddr *)&in4, 4); close(fd);
    // inet6: connect to [::1]:9
    struct sockaddr_in6 in6; memset(&in6, 0, sizeof in6);
    in6.sin6_family = AF_INET6; in6.sin6_port = htons(9); in6.sin6_addr = in6addr_loopback;
    fd = socket(AF_INET6, SOCK_STREAM, 0); connect(fd, (struct sockaddr *)&in6, sizeof in6); close(fd);
    // inet6: a v4-mapped address with a scope-less link-local-like pattern
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr); in6.sin6_port = htons(80);
    fd = socket(AF_INET6, SOCK_STREAM, 0); connect(fd, (struct sockaddr *)&in6, sizeof in6); close(fd);
    // local: a path
    struct sockaddr_un un; memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX; strcpy(un.sun_path, "/tmp/enrich-work/no-such.sock");
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(fd, (struct sockaddr *)&un, offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1); close(fd);
    // local: an abstract name
    memset(&un, 0, sizeof un); un.sun_family = AF_UNIX; memcpy(un.sun_path, "\0enrich-abstract", 16);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(fd, (struct sockaddr *)&un, offsetof(struct sockaddr_un, sun_path) + 16); close(fd);
    // local: unnamed (only the family; bind autobinds)
    memset(&un, 0, sizeof un); un.sun_family = AF_UNIX;
    fd = socket(AF_UNIX, SOCK_DGRAM, 0); bind(fd, (struct sockaddr *)&un, sizeof(sa_family_t)); close(fd);
    // netlink: bind a route socket
    struct sockaddr_nl nl; memset(&nl, 0, sizeof nl); nl.nl_family = AF_NETLINK;
    fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE); bind(fd, (struct sockaddr *)&nl, sizeof nl); close(fd);
    // a family auparse prints as unsupported: AF_PACKET via bind on an inet socket (EINVAL)
    struct sockaddr sa; memset(&sa, 0, sizeof sa); sa.sa_family = AF_PACKET;
    fd = socket(AF_INET, SOCK_DGRAM, 0); bind(fd, &sa, sizeof sa); close(fd);
    return 0;
}
