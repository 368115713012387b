// Typed, non-variadic shims over libcurl's variadic calls, so Swift can call them
// with the right C types (Swift cannot call C variadic functions).
#ifndef CUTOVER_CCURL_H
#define CUTOVER_CCURL_H

#include <curl/curl.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef size_t (*cutover_curl_data_cb)(char *data, size_t size, size_t count, void *context);
/// CURLOPT_PREREQFUNCTION: called once per attempt, just before the request goes out.
typedef int (*cutover_curl_prereq_cb)(void *context, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port, int conn_local_port);

static inline CURLcode cutover_easy_setopt_long(CURL *h, CURLoption o, long v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode cutover_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode cutover_easy_setopt_ptr(CURL *h, CURLoption o, void *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode cutover_easy_setopt_string(CURL *h, CURLoption o, const char *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode cutover_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode cutover_easy_setopt_data_cb(CURL *h, CURLoption o, cutover_curl_data_cb v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode cutover_easy_setopt_prereq_cb(CURL *h, cutover_curl_prereq_cb v) {
    return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, v);
}
/// CURLOPT_OPENSOCKETFUNCTION: opens the transfer's sockets close-on-exec (a router the
/// harness starts later must not inherit them), and keeps why one could not be opened in
/// the int that `context` points to: libcurl reports a failed socket() as a failed connect
/// with no errno, and EMFILE is the harness's own failure, never the router's.
static inline curl_socket_t cutover_open_socket(void *context, curlsocktype purpose, struct curl_sockaddr *address) {
    (void)purpose;
    curl_socket_t fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd == CURL_SOCKET_BAD && context != NULL) *(int *)context = errno;
    return fd;
}
static inline CURLcode cutover_easy_open_sockets_recording_errors(CURL *h, int *error) {
    CURLcode code = curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, cutover_open_socket);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)error);
}
static inline CURLcode cutover_easy_getinfo_long(CURL *h, CURLINFO i, long *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode cutover_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode cutover_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode cutover_easy_getinfo_string(CURL *h, CURLINFO i, char **v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLMcode cutover_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
    return curl_multi_setopt(m, o, v);
}


// The multi socket interface (curl_multi_socket_action): libcurl says which sockets to watch
// and when its next timeout is due; the load engine waits on them with its own epoll.
typedef int (*cutover_curl_socket_cb)(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp);
typedef int (*cutover_curl_timer_cb)(CURLM *multi, long timeout_ms, void *userp);

static inline CURLMcode cutover_multi_setopt_ptr(CURLM *m, CURLMoption o, void *v) {
    return curl_multi_setopt(m, o, v);
}
static inline CURLMcode cutover_multi_setopt_socket_cb(CURLM *m, cutover_curl_socket_cb v) {
    return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, v);
}
static inline CURLMcode cutover_multi_setopt_timer_cb(CURLM *m, cutover_curl_timer_cb v) {
    return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, v);
}

/// Watches `fd` in `epfd` as libcurl asks (CURL_POLL_IN/OUT/INOUT/REMOVE); `known` says
/// whether it is already registered. Returns 0, or -1 with errno.
static inline int cutover_epoll_watch(int epfd, int fd, int what, int known) {
    if (what == CURL_POLL_REMOVE) {
        return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    }
    struct epoll_event event = {0};
    if (what & CURL_POLL_IN) event.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) event.events |= EPOLLOUT;
    event.data.fd = fd;
    int rc = epoll_ctl(epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event);
    if (rc != 0 && errno == EEXIST) rc = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event);
    else if (rc != 0 && errno == ENOENT) rc = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
    return rc;
}

/// Waits up to `timeout_ns` nanoseconds (negative: no limit) for socket events, with
/// epoll_pwait2's nanosecond timeout where the kernel has it (5.11+), else epoll_wait's
/// milliseconds rounded up. Fills `fds` and libcurl's CURL_CSELECT_* flags; returns the count.
static inline int cutover_epoll_wait(int epfd, int *fds, int *flags, int max, long long timeout_ns) {
    struct epoll_event events[512];
    if (max > 512) max = 512;
    int count = -1;
#ifdef __NR_epoll_pwait2
    static int has_pwait2 = 1;
    if (has_pwait2 && timeout_ns >= 0) {
        struct timespec timeout = {(time_t)(timeout_ns / 1000000000LL), (long)(timeout_ns % 1000000000LL)};
        count = (int)syscall(__NR_epoll_pwait2, epfd, events, max, &timeout, NULL, 0);
        if (count < 0 && errno == ENOSYS) has_pwait2 = 0;
    }
    if (!has_pwait2 || timeout_ns < 0)
#endif
    {
        int timeout_ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999LL) / 1000000LL);
        count = epoll_wait(epfd, events, max, timeout_ms);
    }
    for (int i = 0; i < count; i++) {
        uint32_t e = events[i].events;
        fds[i] = events[i].data.fd;
        flags[i] = ((e & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0)
                   | ((e & EPOLLERR) ? CURL_CSELECT_ERR : 0);
    }
    return count;
}

#endif
