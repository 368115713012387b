// libcurl's own floor for bench/loadgen-vs-wrk.sh: the smallest client on the libcurl multi
// interface that sends what `cutover load` sends (same options, an X-Request-ID and an
// X-Session-ID header, a parsed URL handle, easy handles reused, keep-alive), and records
// nothing. The gap between it and wrk is libcurl's cost per transfer; the gap between it
// and `cutover load` is ours.
//
// usage: curl-floor URL CONNECTIONS SECONDS   (prints requests per second)
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
    if (argc != 4) { fprintf(stderr, "usage: curl-floor URL CONNECTIONS SECONDS\n"); return 2; }
    int connections = atoi(argv[2]);
    double duration = atof(argv[3]);
    if (connections < 1 || connections > 4096 || duration <= 0) { fprintf(stderr, "curl-floor: bad arguments\n"); return 2; }
    curl_global_init(CURL_GLOBAL_ALL);
    CURLU *url = curl_url();
    if (curl_url_set(url, CURLUPART_URL, argv[1], 0) != CURLUE_OK) { fprintf(stderr, "curl-floor: bad URL %s\n", argv[1]); return 2; }
    struct curl_slist *headers = curl_slist_append(NULL, "X-Request-ID: floor-123456");
    headers = curl_slist_append(headers, "X-Session-ID: s42");
    CURLM *multi = curl_multi_init();
    for (int i = 0; i < connections; i++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_CURLU, url);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(easy, CURLOPT_PROXY, "");
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, discard);
        curl_multi_add_handle(multi, easy);
    }
    long done = 0, failed = 0;
    double start = seconds_now();
    int running = 1;
    while (seconds_now() - start < duration) {
        curl_multi_perform(multi, &running);
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
        curl_multi_poll(multi, NULL, 0, 10, NULL);
    }
    double elapsed = seconds_now() - start;
    printf("%.1f\n", done / elapsed);
    if (failed) fprintf(stderr, "curl-floor: %ld transfers failed\n", failed);
    return failed ? 1 : 0;
}
