// libcurl's own floor for bench/loadgen-vs-wrk.sh: the smallest client on the libcurl multi
// interface that sends what `cutover load` sends (same options, an X-Request-ID and an
// X-Session-ID header, a parsed URL handle, easy handles reused, keep-alive), and records
// nothing. The gap between it and wrk is libcurl's cost per transfer; the gap between it
// and `cutover load` is ours.
//
// With --socket it drives the same transfers through curl_multi_socket_action and its own
// epoll, as `cutover load` does (so that thousands of slow transfers cost nothing between
// their events): the floor of an event-driven libcurl client.
//
// usage: curl-floor [--socket] URL CONNECTIONS SECONDS   (prints requests per second)
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static int epfd = -1;
static long timer_ms = -1;

static int watch(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    (void)easy; (void)userp;
    if (what == CURL_POLL_REMOVE) { epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL); return 0; }
    struct epoll_event ev = {0};
    if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
    ev.data.fd = s;
    if (epoll_ctl(epfd, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0) epoll_ctl(epfd, socketp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev);
    curl_multi_assign((CURLM *)userp, s, (void *)1);
    return 0;
}

static int set_timer(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi; (void)userp;
    timer_ms = timeout_ms;
    return 0;
}

static size_t discard(char *data, size_t size, size_t count, void *context) {
    (void)data; (void)context;
    return size * count;
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int socket_mode = argc == 5 && strcmp(argv[1], "--socket") == 0;
    if (socket_mode) { argv++; argc--; }
    if (argc != 4) { fprintf(stderr, "usage: curl-floor [--socket] URL CONNECTIONS SECONDS\n"); return 2; }
    int connections = atoi(argv[2]);
    double duration = atof(argv[3]);
    if (connections < 1 || connections > 4096 || duration <= 0) { fprintf(stderr, "curl-floor: bad arguments\n"); return 2; }
    curl_global_init(CURL_GLOBAL_ALL);
    CURLU *url = curl_url();
    if (curl_url_set(url, CURLUPART_URL, argv[1], 0) != CURLUE_OK) { fprintf(stderr, "curl-floor: bad URL %s\n", argv[1]); return 2; }
    struct curl_slist *headers = curl_slist_append(NULL, "X-Request-ID: floor-123456");
    headers = curl_slist_append(headers, "X-Session-ID: s42");
    CURLM *multi = curl_multi_init();
    if (socket_mode) {
        epfd = epoll_create1(EPOLL_CLOEXEC);
        curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, watch);
        curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, multi);
        curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, set_timer);
    }
    for (int i = 0; i < connections; i++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_CURLU, url);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 2048L);
        curl_easy_setopt(easy, CURLOPT_PROXY, "");
        curl_easy_setopt(easy, CURLOPT_PRIVATE, easy);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, discard);
        curl_multi_add_handle(multi, easy);
    }
    long done = 0, failed = 0;
    double start = seconds_now();
    int running = 1;
    struct epoll_event events[256];
    while (seconds_now() - start < duration) {
        if (socket_mode) {
            int n = epoll_wait(epfd, events, 256, timer_ms < 0 ? 10 : (int)(timer_ms < 10 ? timer_ms : 10));
            for (int i = 0; i < n; i++) {
                int flags = ((events[i].events & (EPOLLIN | EPOLLHUP)) ? CURL_CSELECT_IN : 0) | ((events[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0);
                curl_multi_socket_action(multi, events[i].data.fd, flags, &running);
            }
            if (n == 0 || timer_ms == 0) { timer_ms = -1; curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running); }
        } else {
            curl_multi_perform(multi, &running);
        }
        CURLMsg *message;
        int queued;
        while ((message = curl_multi_info_read(multi, &queued))) {
            if (message->msg != CURLMSG_DONE) continue;
            if (message->data.result != CURLE_OK) failed++;
            CURL *easy = message->easy_handle;
            curl_multi_remove_handle(multi, easy);
            done++;
            curl_multi_add_handle(multi, easy);
        }
        if (!socket_mode) curl_multi_poll(multi, NULL, 0, 10, NULL);
    }
    double elapsed = seconds_now() - start;
    printf("%.1f\n", done / elapsed);
    if (failed) fprintf(stderr, "curl-floor: %ld transfers failed\n", failed);
    return failed ? 1 : 0;
}
