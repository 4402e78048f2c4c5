/* SPDX-License-Identifier: MIT
 * Unit tests for cf_metrics: HELP/TYPE lines, label escaping, integer and float
 * values, cumulative histogram buckets with +Inf equal to _count, the final
 * newline, and the samples list behind the `stats` map. */
#include <stdint.h>

#include "cf_metrics.h"
#include "cf_test.h"

static void
test_counter_and_gauge(void)
{
    cf_metrics_t *m = cf_metrics_new();
    cf_metrics_counter(m, "cloudfact_x_total", "Things.\nWith a \\ backslash.", 42);
    cf_metrics_gauge(m, "cloudfact_y", "A gauge.", 0.25);
    cf_metrics_gauge(m, "cloudfact_big", "Large integer.", 9007199254740991.0);
    size_t len;
    const char *t = cf_metrics_text(m, &len);
    CF_CHECK_STR(t, "# HELP cloudfact_x_total Things.\\nWith a \\\\ backslash.\n"
                    "# TYPE cloudfact_x_total counter\n"
                    "cloudfact_x_total 42\n"
                    "# HELP cloudfact_y A gauge.\n"
                    "# TYPE cloudfact_y gauge\n"
                    "cloudfact_y 0.25\n"
                    "# HELP cloudfact_big Large integer.\n"
                    "# TYPE cloudfact_big gauge\n"
                    "cloudfact_big 9007199254740991\n");
    CF_CHECK(len == strlen(t) && t[len - 1] == '\n');
    cf_metrics_destroy(&m);
    CF_CHECK(m == NULL);
    cf_metrics_destroy(&m); /* NULL-safe */
}

static void
test_labels_escaped(void)
{
    cf_metrics_t *m = cf_metrics_new();
    cf_metrics_family(m, "cloudfact_z_total", CF_METRICS_COUNTER, "Labeled.");
    cf_metrics_sample(m, "result", "accepted", 3);
    cf_metrics_sample(m, "result", "a\"b\\c\nd", 1);
    const char *t = cf_metrics_text(m, NULL);
    CF_CHECK(strstr(t, "cloudfact_z_total{result=\"accepted\"} 3\n") != NULL);
    CF_CHECK(strstr(t, "cloudfact_z_total{result=\"a\\\"b\\\\c\\nd\"} 1\n") != NULL);
    const char *key;
    double v;
    CF_CHECK(cf_metrics_sample_at(m, 0, &key, &v));
    CF_CHECK_STR(key, "cloudfact_z_total{result=\"accepted\"}");
    CF_CHECK(v == 3);
    CF_CHECK(cf_metrics_sample_at(m, 1, &key, &v));
    CF_CHECK(!cf_metrics_sample_at(m, 2, &key, &v));
    cf_metrics_destroy(&m);
}

static void
test_histogram(void)
{
    cf_metrics_hist_t h;
    const double le[] = {0.01, 0.1, 1};
    cf_metrics_hist_init(&h, le, 3);
    cf_metrics_hist_observe(&h, 0.005);
    cf_metrics_hist_observe(&h, 0.01); /* le is inclusive */
    cf_metrics_hist_observe(&h, 0.5);
    cf_metrics_hist_observe(&h, 7);
    cf_metrics_t *m = cf_metrics_new();
    cf_metrics_histogram(m, "cloudfact_h_seconds", "Times.", &h);
    const char *t = cf_metrics_text(m, NULL);
    CF_CHECK_STR(t, "# HELP cloudfact_h_seconds Times.\n"
                    "# TYPE cloudfact_h_seconds histogram\n"
                    "cloudfact_h_seconds_bucket{le=\"0.01\"} 2\n"
                    "cloudfact_h_seconds_bucket{le=\"0.1\"} 2\n"
                    "cloudfact_h_seconds_bucket{le=\"1\"} 3\n"
                    "cloudfact_h_seconds_bucket{le=\"+Inf\"} 4\n"
                    "cloudfact_h_seconds_sum 7.515\n"
                    "cloudfact_h_seconds_count 4\n");
    cf_metrics_destroy(&m);
}

static void
test_grows(void)
{
    cf_metrics_t *m = cf_metrics_new();
    char name[64];
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "cloudfact_g%d", i);
        cf_metrics_gauge(m, name, "Many families to outgrow the first buffer.", i);
    }
    size_t len;
    const char *t = cf_metrics_text(m, &len);
    CF_CHECK(len > 4096 && strstr(t, "cloudfact_g499 499\n") != NULL);
    cf_metrics_destroy(&m);
}

CF_TEST_LIST(CF_TEST(test_counter_and_gauge), CF_TEST(test_labels_escaped),
             CF_TEST(test_histogram), CF_TEST(test_grows))
