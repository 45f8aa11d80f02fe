/* The host tier's store: the byte budget holds, the grid finds exactly the
 * slots within range (against a brute-force scan, over many random slots,
 * hash collisions included), data comes back as it went in, and the
 * retention rule keeps each place's first view, and for a new place gives
 * up the newest view of the place shown most often. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test_util.h"
#include "kv_host_tier.h"

static kvm_entry entry(float x, float z, float yaw, int64_t time)
{
    kvm_entry e = {{x, 1.6f, z, yaw, 0}, time, time, 1};
    return e;
}

static void test_budget_take_and_retention(void)
{
    char err[256];
    kvh_tier *t = NULL;
    CHECK(kvh_create(16, 10 * 16 + 15, &t, err, sizeof err) == 0); /* room for 10 */
    if (!t)
        return;
    CHECK(kvh_capacity(t) == 10);
    int ids[10];
    for (int i = 0; i < 10; i++) {
        kvm_entry e = entry(10.0f * (float)i, 0, 0, i);
        char data[16];
        memset(data, 'a' + i, sizeof data);
        ids[i] = kvh_put(t, &e, data);
        CHECK(ids[i] >= 0);
    }
    CHECK(kvh_count(t) == 10 && kvh_bytes(t) == 160);
    /* full, a new place, every stored place shown once: the newest slot (time 9) gives way */
    kvm_entry far = entry(500, 500, 0, 20);
    char data[16] = "new place......";
    int id_far = kvh_put(t, &far, data);
    CHECK(id_far >= 0 && kvh_count(t) == 10 && kvh_bytes(t) <= 10 * 16 + 15);
    int times[32] = {0}; /* ids are reused: look at what is stored by time */
    for (int id = 0; id < kvh_capacity(t); id++)
        if (kvh_entry(t, id))
            times[kvh_entry(t, id)->time]++;
    CHECK(times[0] == 1 && times[8] == 1 && times[9] == 0 && times[20] == 1);
    /* the same place as slot 2 (time 2), seen later: the newer view is given up, nothing changes */
    kvm_entry again = entry(20.1f, 0, 5, 30);
    CHECK(kvh_put(t, &again, data) == -1 && kvh_count(t) == 10 && kvh_entry(t, ids[2])->time == 2);
    /* seen earlier than slot 3 (time 3) would be the first view: it replaces slot 3 */
    kvm_entry first = entry(30.0f, 0.2f, 0, -5);
    int id_first = kvh_put(t, &first, data);
    CHECK(id_first >= 0 && kvh_entry(t, id_first)->time == -5);
    int seen_three = 0;
    for (int id = 0; id < 10; id++)
        seen_three += kvh_entry(t, id) && kvh_entry(t, id)->time == 3;
    CHECK(seen_three == 0);
    /* a place shown twice (slots at x = 60 and 60.2, times 6 and 40 after a take makes room): a new
     * place then displaces its newer view, not a place shown once */
    kvm_entry e;
    char back[16];
    CHECK(kvh_take(t, ids[5], &e, back) == 0);
    kvm_entry twice = entry(60.2f, 0, 0, 40), newer_place = entry(-300, -300, 0, 41);
    CHECK(kvh_put(t, &twice, data) >= 0 && kvh_count(t) == 10);
    CHECK(kvh_put(t, &newer_place, data) >= 0);
    int forty = 0, six = 0;
    for (int id = 0; id < kvh_capacity(t); id++)
        if (kvh_entry(t, id))
            forty += kvh_entry(t, id)->time == 40, six += kvh_entry(t, id)->time == 6;
    CHECK(forty == 0 && six == 1);
    /* take: the data as it went in, and gone from the store and the grid */
    CHECK(kvh_take(t, ids[4], &e, back) == 0 && e.time == 4 && back[0] == 'e' && back[15] == 'e');
    CHECK(kvh_take(t, ids[4], &e, back) == -1 && kvh_count(t) == 9);
    int near[4];
    float at4[5] = {40, 1.6f, 0, 0, 0};
    CHECK(kvh_near(t, at4, 1.0f, near, 4) == 0);
    kvh_destroy(t);
    CHECK(kvh_create(0, 100, &t, err, sizeof err) == -1);
}

static void test_grid_matches_scan(void)
{
    char err[256];
    kvh_tier *t = NULL;
    enum { N = 3000 };
    CHECK(kvh_create(4, N * 4, &t, err, sizeof err) == 0);
    if (!t)
        return;
    srand(7);
    kvm_entry all[N];
    int ids[N];
    for (int i = 0; i < N; i++) {
        /* a 400 m square: 10,000 cells over 1,024 buckets, so buckets are shared */
        all[i] = entry((float)(rand() % 40000) / 100.0f - 200.0f, (float)(rand() % 40000) / 100.0f - 200.0f,
                       (float)(rand() % 360) - 180.0f, i);
        ids[i] = kvh_put(t, &all[i], "abc");
    }
    int worst = 0, checked = 0;
    for (int q = 0; q < 200; q++) {
        float pose[5] = {(float)(rand() % 40000) / 100.0f - 200.0f, 1.6f,
                         (float)(rand() % 40000) / 100.0f - 200.0f, 0, 0};
        float range = 2.0f + (float)(q % 10);
        int got[N], n = kvh_near(t, pose, range, got, N), want = 0, found = 0;
        for (int i = 0; i < N; i++) {
            if (ids[i] < 0 || hypotf(all[i].pose[0] - pose[0], all[i].pose[2] - pose[2]) > range)
                continue;
            want++;
            for (int k = 0; k < n; k++)
                found += got[k] == ids[i];
        }
        worst |= n != want || found != want;
        checked += want;
    }
    printf("grid lookups against a scan: 200 queries, %d slots in range in all, %s\n", checked,
           worst ? "MISMATCH" : "the same");
    CHECK(!worst && checked > 0);
    kvh_destroy(t);
}

/* Churn at capacity, as the memory drives it: takes and puts in any order,
 * retention on every put to a full tier; every stored slot's data stays its
 * own (its bytes are its time), and lookups name only stored slots. */
static void test_churn(void)
{
    char err[256];
    kvh_tier *t = NULL;
    CHECK(kvh_create(sizeof(int64_t), 50 * sizeof(int64_t), &t, err, sizeof err) == 0);
    if (!t)
        return;
    srand(11);
    int bad = 0;
    for (int64_t step = 0; step < 20000; step++) {
        float x = (float)(rand() % 3000) / 100.0f, z = (float)(rand() % 3000) / 100.0f;
        kvm_entry e = entry(x, z, (float)(rand() % 8) * 45.0f - 180.0f, step);
        if (rand() % 3 == 0) {
            int ids[64], n = kvh_near(t, e.pose, 10.0f, ids, 64);
            if (n > 0) {
                kvm_entry got;
                int64_t data = -1;
                bad += kvh_take(t, ids[rand() % n], &got, &data) != 0 || data != got.time;
            }
        } else
            kvh_put(t, &e, &step);
        bad += kvh_count(t) > kvh_capacity(t);
    }
    for (int id = 0; id < kvh_capacity(t); id++) {
        const kvm_entry *e = kvh_entry(t, id);
        if (!e)
            continue;
        kvm_entry got;
        int64_t data = -1;
        bad += kvh_take(t, id, &got, &data) != 0 || data != e->time;
    }
    printf("churn: 20,000 puts and takes at a capacity of 50: %d inconsistencies\n", bad);
    CHECK(bad == 0 && kvh_count(t) == 0);
    kvh_destroy(t);
}

/* Snapshots: a tier rebuilt from kvh_order with kvh_put_at answers every
 * lookup with the same ids in the same order, and goes on to make the same
 * retention choices as the original. */
static void test_order_rebuilds(void)
{
    char err[256];
    kvh_tier *a = NULL, *b = NULL;
    CHECK(kvh_create(sizeof(int64_t), 60 * sizeof(int64_t), &a, err, sizeof err) == 0);
    CHECK(kvh_create(sizeof(int64_t), 60 * sizeof(int64_t), &b, err, sizeof err) == 0);
    if (!a || !b) {
        kvh_destroy(a), kvh_destroy(b);
        return;
    }
    srand(5);
    for (int64_t step = 0; step < 300; step++) { /* full, with retention at work, and some taken */
        kvm_entry e = entry((float)(rand() % 2000) / 100.0f, (float)(rand() % 2000) / 100.0f,
                            (float)(rand() % 8) * 45.0f - 180.0f, step);
        kvh_put(a, &e, &step);
        int ids[8];
        if (step % 7 == 0 && kvh_near(a, e.pose, 3.0f, ids, 8) > 0) {
            kvm_entry got;
            int64_t data;
            kvh_take(a, ids[0], &got, &data);
        }
    }
    int order[64], n = kvh_order(a, order, 64), bad = 0;
    CHECK(n == kvh_count(a));
    for (int i = 0; i < n; i++)
        bad += kvh_put_at(b, order[i], kvh_entry(a, order[i]), kvh_data(a, order[i])) != 0;
    CHECK(kvh_put_at(b, order[0], kvh_entry(a, order[0]), kvh_data(a, order[0])) == -1); /* taken */
    CHECK(kvh_put_at(b, 60, kvh_entry(a, order[0]), kvh_data(a, order[0])) == -1);       /* past the budget */
    for (int64_t q = 0; q < 200; q++) {
        kvm_entry e = entry((float)(rand() % 2000) / 100.0f, (float)(rand() % 2000) / 100.0f, 0.0f, 1000 + q);
        int ia[64], ib[64], na = kvh_near(a, e.pose, 6.0f, ia, 64), nb = kvh_near(b, e.pose, 6.0f, ib, 64);
        bad += na != nb || memcmp(ia, ib, sizeof(int) * (size_t)na) != 0;
        bad += kvh_put(a, &e, &q) != kvh_put(b, &e, &q); /* the same retention choice */
    }
    printf("rebuilt from kvh_order: %d slots, 200 lookups and puts after: %d differences\n", n, bad);
    CHECK(bad == 0 && kvh_count(a) == kvh_count(b) && kvh_bytes(a) == kvh_bytes(b));
    kvh_clear(b);
    CHECK(kvh_count(b) == 0 && kvh_bytes(b) == 0 && kvh_entry(b, order[0]) == NULL);
    kvh_destroy(b);
    kvh_destroy(a);
}

int main(void)
{
    test_budget_take_and_retention();
    test_grid_matches_scan();
    test_churn();
    test_order_rebuilds();
    return test_finish("test_host_tier");
}
