// Typed, non-variadic shims over libcurl's variadic calls, so Swift can call them
// with the right C types (Swift cannot call C variadic functions).
#ifndef CUTOVER_CCURL_H
#define CUTOVER_CCURL_H

#include <curl/curl.h>

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

#endif
