/*
 * test_cdn_route.c: unit tests of src/common/cdn/cdn_route.c, the rule
 * that picks the origin of each route (SPEC 6): a route stays with its
 * origin while that origin claims the name, whoever claims it later (a
 * forged claim from a "smaller" address took routes over before), and
 * moves only when that origin drops the name or goes PASSIVE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cdn/cdn_route.h"

typedef struct {
    lc_cdn_route_t r[16];
    size_t n;
} view_t;

/* One round: the claims now, against the routes of the last round. */
static void step(view_t *v, lc_cdn_claim_t *claims, size_t n)
{
    lc_cdn_route_t out[16];
    size_t nr = lc_cdn_routes_pick(v->r, v->n, claims, n, out, 16);
    memcpy(v->r, out, nr * sizeof(out[0]));
    v->n = nr;
}

static const char *route_of(const view_t *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->r[i].name, name) == 0)
            return v->r[i].origin;
    return NULL;
}

static void test_first_claim_routes(void **state)
{
    (void)state;
    view_t v = { .n = 0 };
    lc_cdn_claim_t c[] = { { "cam", "10.0.0.5:8084", 0, 7, 10 } };
    step(&v, c, 1);
    assert_int_equal(v.n, 1);
    assert_string_equal(route_of(&v, "cam"), "10.0.0.5:8084");
    assert_int_equal(v.r[0].vcodec, 7);
    assert_int_equal(v.r[0].acodec, 10);
}

static void test_late_claim_takes_nothing(void **state)
{
    (void)state;
    view_t v = { .n = 0 };
    lc_cdn_claim_t real[] = { { "cam", "127.0.0.1:23084", 0, 7, 10 } };
    step(&v, real, 1);
    /* the attacker's claim: a smaller address, also "from the publisher" */
    lc_cdn_claim_t both[] = { { "cam", "127.0.0.1:23084", 0, 7, 10 }, { "cam", "127.0.0.1:10000", 0, 7, 10 } };
    step(&v, both, 2);
    assert_string_equal(route_of(&v, "cam"), "127.0.0.1:23084");
    lc_cdn_claim_t again[] = { { "cam", "127.0.0.1:10000", 0, 7, 10 }, { "cam", "127.0.0.1:23084", 0, 9, 10 } };
    step(&v, again, 2);
    assert_string_equal(route_of(&v, "cam"), "127.0.0.1:23084");
    assert_int_equal(v.r[0].vcodec, 9); /* facts from the route's own origin */
}

static void test_moves_when_dropped_or_passive(void **state)
{
    (void)state;
    view_t v = { .n = 0 };
    lc_cdn_claim_t a[] = { { "cam", "10.0.0.9:8084", 0, 0, 0 } };
    step(&v, a, 1);
    /* 10.0.0.9 drops cam (or goes PASSIVE: its claims are gone), 10.0.0.1 has it */
    lc_cdn_claim_t b[] = { { "cam", "10.0.0.1:8084", 0, 0, 0 } };
    step(&v, b, 1);
    assert_string_equal(route_of(&v, "cam"), "10.0.0.1:8084");
    /* 10.0.0.9 claims it again: the route stays where it is now */
    lc_cdn_claim_t c[] = { { "cam", "10.0.0.9:8084", 0, 0, 0 }, { "cam", "10.0.0.1:8084", 0, 0, 0 } };
    step(&v, c, 2);
    assert_string_equal(route_of(&v, "cam"), "10.0.0.1:8084");
    /* nobody has it: no route */
    step(&v, NULL, 0);
    assert_int_equal(v.n, 0);
    assert_null(route_of(&v, "cam"));
}

static void test_fresh_choice(void **state)
{
    (void)state;
    view_t v = { .n = 0 };
    /* several claims at once: the publisher's origin first, then the lowest address */
    lc_cdn_claim_t c[] = { { "s", "10.0.0.1:8084", 1, 0, 0 }, { "s", "10.0.0.7:8084", 0, 0, 0 },
                           { "s", "10.0.0.3:8084", 0, 0, 0 }, { "t", "10.0.0.9:8084", 1, 0, 0 } };
    step(&v, c, 4);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.r[0].name, "s"); /* sorted by name */
    assert_string_equal(route_of(&v, "s"), "10.0.0.3:8084");
    assert_string_equal(route_of(&v, "t"), "10.0.0.9:8084");
    /* a route to an origin that fetched the name stays too while it has it */
    lc_cdn_claim_t d[] = { { "t", "10.0.0.9:8084", 1, 0, 0 }, { "t", "10.0.0.2:8084", 0, 0, 0 },
                           { "s", "10.0.0.3:8084", 0, 0, 0 } };
    step(&v, d, 3);
    assert_string_equal(route_of(&v, "t"), "10.0.0.9:8084");
    assert_string_equal(route_of(&v, "s"), "10.0.0.3:8084");
}

static void test_cap(void **state)
{
    (void)state;
    lc_cdn_claim_t c[] = { { "c", "1.1.1.1:1", 0, 0, 0 }, { "a", "1.1.1.1:1", 0, 0, 0 },
                           { "b", "1.1.1.1:1", 0, 0, 0 } };
    lc_cdn_route_t out[2];
    assert_int_equal(lc_cdn_routes_pick(NULL, 0, c, 3, out, 2), 2);
    assert_string_equal(out[0].name, "a");
    assert_string_equal(out[1].name, "b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_claim_routes),
        cmocka_unit_test(test_late_claim_takes_nothing),
        cmocka_unit_test(test_moves_when_dropped_or_passive),
        cmocka_unit_test(test_fresh_choice),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
