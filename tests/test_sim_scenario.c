/* vox-sim scenario files: every directive, the defaults, the lexical rules
 * (comments, quotes, CRLF), durations, and bad input: each error names the
 * file and line, leaves the scenario empty and leaks nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/testutil.h"

#include "scenario.h"

static int parse(vox_sim_scenario *scn, const char *text, char *err, size_t errlen)
{
    return vox_sim_scenario_parse(scn, "t.scn", text, strlen(text), err, errlen);
}

static void ok(vox_sim_scenario *scn, const char *text)
{
    char err[512] = "";
    if (parse(scn, text, err, sizeof err))
        fail_msg("unexpected error: %s", err);
}

/* text must fail with an error containing want (e.g. "t.scn:2: unknown"). */
static void bad(const char *text, const char *want)
{
    vox_sim_scenario scn;
    char err[512] = "";
    assert_int_equal(parse(&scn, text, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    assert_int_equal(strncmp(err, "t.scn:", 6), 0);
    assert_int_equal(scn.ncalls, 0);
    assert_null(scn.calls);
    assert_null(scn.opts.endpoints);
    vox_sim_scenario_free(&scn);
}

static void defaults(void **state)
{
    vox_sim_scenario scn;
    ok(&scn, "");
    assert_true(scn.opts.speed == 1.0);
    assert_int_equal(scn.opts.heartbeat_ms, 20000);
    assert_int_equal(scn.opts.log_level, 2);
    assert_null(scn.opts.socket);
    assert_null(scn.opts.password);
    assert_null(scn.opts.host);
    assert_int_equal(scn.opts.port, 0);
    assert_int_equal(scn.ncalls, 0);
    assert_string_equal(scn.file, "t.scn");
    vox_sim_scenario_free(&scn);

    ok(&scn, "call\ncall two\n");
    assert_int_equal(scn.ncalls, 2);
    assert_null(scn.calls[0].name);
    assert_string_equal(scn.calls[1].name, "two");
    for (size_t i = 0; i < 2; i++) {
        const vox_sim_call *c = &scn.calls[i];
        assert_int_equal(c->hangup_ms, -1);
        assert_null(c->socket);
        assert_null(c->caller_number);
        assert_null(c->destination);
        assert_int_equal(c->ndtmf, 0);
        assert_int_equal(c->fault, VOX_SIM_CALL_OK);
        assert_null(c->expect_cause);
        assert_null(c->expect_vars);
        assert_int_equal(c->no_answer, 0);
    }
    assert_int_equal(scn.call_line[0], 1);
    assert_int_equal(scn.call_line[1], 2);
    vox_sim_scenario_free(&scn);
}

static void globals(void **state)
{
    vox_sim_scenario scn;
    ok(&scn, "speed 12.5\n"
             "socket 127.0.0.1:8084\n"
             "heartbeat 2s\n"
             "password Secret\n"
             "hostname fs1\n"
             "wait_clients 2\n"
             "user 1000@example.com:pw1\n"
             "user 1001@example.com:pw2\n");
    assert_true(scn.opts.speed == 12.5);
    assert_string_equal(scn.opts.socket, "127.0.0.1:8084");
    assert_int_equal(scn.opts.heartbeat_ms, 2000);
    assert_string_equal(scn.opts.password, "Secret");
    assert_string_equal(scn.opts.hostname, "fs1");
    assert_int_equal(scn.opts.wait_clients, 2);
    assert_non_null(scn.opts.users);
    assert_string_equal(scn.opts.users[0], "1000@example.com:pw1");
    assert_string_equal(scn.opts.users[1], "1001@example.com:pw2");
    assert_null(scn.opts.users[2]);
    vox_sim_scenario_free(&scn);

    /* Later settings replace earlier ones; heartbeat 0 turns it off. */
    ok(&scn, "speed 2\nspeed 3\nheartbeat 0\nwait-clients 0\n");
    assert_true(scn.opts.speed == 3.0);
    assert_int_equal(scn.opts.heartbeat_ms, 0);
    assert_int_equal(scn.opts.wait_clients, 0);
    vox_sim_scenario_free(&scn);
}

static void endpoints(void **state)
{
    vox_sim_scenario scn;
    ok(&scn, "endpoint user/1002 ring 2s answer talk 30s\n"
             "endpoint user/1003 ring 500ms fail USER_BUSY\n"
             "endpoint sofia/gateway/gw1/ no-answer\n"
             "endpoint user/1004\n");
    assert_int_equal(scn.opts.nendpoints, 4);
    const vox_sim_endpoint *e = scn.opts.endpoints;
    assert_string_equal(e[0].name, "user/1002");
    assert_int_equal(e[0].ring_ms, 2000);
    assert_int_equal(e[0].talk_ms, 30000);
    assert_null(e[0].fail_cause);
    assert_int_equal(e[0].no_answer, 0);
    assert_string_equal(e[1].name, "user/1003");
    assert_int_equal(e[1].ring_ms, 500);
    assert_string_equal(e[1].fail_cause, "USER_BUSY");
    assert_string_equal(e[2].name, "sofia/gateway/gw1/");
    assert_int_equal(e[2].no_answer, 1);
    assert_string_equal(e[3].name, "user/1004");
    assert_int_equal(e[3].ring_ms, 0);
    assert_null(e[3].fail_cause);
    vox_sim_scenario_free(&scn);

    bad("endpoint user/1 ring\n", "t.scn:1: endpoint user/1: 'ring' needs a value");
    bad("endpoint user/1 fail busy\n", "t.scn:1: bad hangup cause 'busy'");
    bad("endpoint user/1 answer fail USER_BUSY\n", "exclude each other");
    bad("endpoint user/1 ring 1s wobble\n", "unknown word 'wobble'");
    bad("endpoint user/1 talk 1h\n", "bad duration '1h' for talk");
    bad("endpoint\n", "t.scn:1: usage: endpoint NAME");
}

static void inbound_faults(void **state)
{
    vox_sim_scenario scn;
    ok(&scn, "fault reject_auth\n"
             "fault acl-reject\n"
             "fault garbage \"Content-Type: bogus\\n\\n\"\n"
             "fault huge_event 200000\n"
             "fault flood 1000\n"
             "fault slow_write 10ms\n"
             "fault slow_read 0.02s\n"
             "fault drop_after 3\n");
    const vox_sim_faults *f = &scn.opts.faults;
    assert_int_equal(f->reject_auth, 1);
    assert_int_equal(f->acl_reject, 1);
    assert_string_equal(f->garbage, "Content-Type: bogus\n\n");
    assert_int_equal(f->huge_event_bytes, 200000);
    assert_int_equal(f->flood_events, 1000);
    assert_int_equal(f->slow_write_ms, 10);
    assert_int_equal(f->slow_read_ms, 20);
    assert_int_equal(f->drop_after, 3);
    vox_sim_scenario_free(&scn);

    bad("fault reject_auth yes\n", "t.scn:1: fault reject_auth takes no value");
    bad("fault flood\n", "t.scn:1: fault flood needs a value");
    bad("fault flood many\n", "t.scn:1: bad number 'many' for flood");
    bad("fault flood -5\n", "bad number '-5'");
    bad("fault flood 99999999999999999999999\n", "bad number");
    bad("fault gremlins\n", "t.scn:1: unknown fault 'gremlins'");
    bad("fault drop 2\n", "call's fault: put it in a call block");
    bad("fault garbage \"\"\n", "empty garbage");
}

static void call_block(void **state)
{
    vox_sim_scenario scn;
    ok(&scn, "socket 127.0.0.1:8084\n"
             "call alice\n"
             "    caller 1001 Alice Smith\n"
             "    destination 9100\n"
             "    socket 10.0.0.1:9000\n"
             "    start 1.5s\n"
             "    no_answer\n"
             "    dtmf 1500ms 42#\n"
             "    dtmf 4s *9\n"
             "    hangup 8s\n"
             "    fault drop 3\n"
             "    expect cause NORMAL_CLEARING\n"
             "    expect var ivr_result=42\n"
             "    expect var \"greeting=hello world\"\n"
             "call bob\n"
             "    caller 1002 \"Bob  B.\"\n"
             "    fault no-full\n"
             "call carol\n"
             "    fault no_async\n"
             "    hangup 0\n");
    assert_int_equal(scn.ncalls, 3);
    const vox_sim_call *a = &scn.calls[0];
    assert_string_equal(a->name, "alice");
    assert_string_equal(a->caller_number, "1001");
    assert_string_equal(a->caller_name, "Alice Smith");
    assert_string_equal(a->destination, "9100");
    assert_string_equal(a->socket, "10.0.0.1:9000");
    assert_int_equal(a->start_ms, 1500);
    assert_int_equal(a->no_answer, 1);
    assert_int_equal(a->ndtmf, 2);
    assert_int_equal(a->dtmf[0].at_ms, 1500);
    assert_string_equal(a->dtmf[0].digits, "42#");
    assert_int_equal(a->dtmf[1].at_ms, 4000);
    assert_string_equal(a->dtmf[1].digits, "*9");
    assert_int_equal(a->hangup_ms, 8000);
    assert_int_equal(a->fault, VOX_SIM_CALL_DROP);
    assert_int_equal(a->fault_step, 3);
    assert_string_equal(a->expect_cause, "NORMAL_CLEARING");
    assert_string_equal(a->expect_vars[0], "ivr_result=42");
    assert_string_equal(a->expect_vars[1], "greeting=hello world");
    assert_null(a->expect_vars[2]);
    assert_int_equal(scn.call_line[0], 2);

    const vox_sim_call *b = &scn.calls[1];
    assert_string_equal(b->caller_name, "Bob  B.");
    assert_null(b->socket); /* the global one applies: see check */
    assert_int_equal(b->fault, VOX_SIM_CALL_NO_FULL);
    assert_int_equal(b->hangup_ms, -1);
    assert_int_equal(scn.calls[2].fault, VOX_SIM_CALL_NO_ASYNC);
    assert_int_equal(scn.calls[2].hangup_ms, 0);
    assert_int_equal(scn.call_line[2], 18);
    assert_string_equal(scn.opts.socket, "127.0.0.1:8084");
    vox_sim_scenario_free(&scn);
}

static void call_errors(void **state)
{
    bad("call a\n  dtmf 1s\n", "t.scn:2: usage: dtmf DURATION DIGITS");
    bad("call a\n  dtmf 1s 12x\n", "t.scn:2: bad dtmf digits '12x'");
    bad("call a\n  dtmf soon 1\n", "t.scn:2: bad duration 'soon' for dtmf");
    bad("call a\n  fault drop 0\n", "t.scn:2: fault drop: steps count from 1");
    bad("call a\n  fault drop\n", "t.scn:2: usage: fault drop STEP");
    bad("call a\n  fault no_full\n  fault no_async\n", "t.scn:3: a call has one socket fault");
    bad("call a\n  fault no_full 1\n", "t.scn:2: fault no_full takes no value");
    bad("call a\n  fault reject_auth\n", "t.scn:2: unknown call fault 'reject_auth'");
    bad("call a\n  expect cause normal\n", "t.scn:2: bad hangup cause 'normal'");
    bad("call a\n  expect var novalue\n", "t.scn:2: bad variable expectation 'novalue'");
    bad("call a\n  expect var =x\n", "bad variable expectation '=x'");
    bad("call a\n  expect weather sunny\n", "t.scn:2: unknown expectation 'weather'");
    bad("call a\n  expect cause\n", "t.scn:2: usage: expect cause CAUSE");
    bad("call a\n  socket nowhere\n", "t.scn:2: bad socket 'nowhere'");
    bad("call a\n  socket host:0\n", "bad socket 'host:0'");
    bad("call a\n  socket :80\n", "bad socket ':80'");
    bad("call a\n  socket h:65536\n", "bad socket 'h:65536'");
    bad("call a\n  start -1s\n", "bad duration '-1s' for start");
    bad("call a\n  no_answer please\n", "t.scn:2: usage: no_answer");
    bad("call a\n  caller\n", "t.scn:2: usage: caller NUMBER");
    bad("call a\ncall a\n", "t.scn:2: call a already defined at line 1");
    bad("call \"\"\n", "empty call name");
    bad("call a b\n", "t.scn:1: usage: call [NAME]");
    bad("call a\nspeed 2\n", "t.scn:2: 'speed' is a global setting: put it before the first call");
    bad("call a\nendpoint user/1\n", "'endpoint' is a global setting");
    bad("dtmf 1s 1\n", "t.scn:1: 'dtmf' belongs in a call block");
    bad("expect cause NORMAL_CLEARING\n", "'expect' belongs in a call block");
}

static void global_errors(void **state)
{
    bad("\n# c\nwobble 3\n", "t.scn:3: unknown directive 'wobble'");
    bad("speed fast\n", "t.scn:1: bad speed 'fast'");
    bad("speed 0\n", "bad speed '0'");
    bad("speed -2\n", "bad speed '-2'");
    bad("speed inf\n", "bad speed 'inf'");
    bad("speed 1e400\n", "bad speed '1e400'");
    bad("speed 3x\n", "bad speed '3x'");
    bad("speed\n", "t.scn:1: usage: speed X");
    bad("speed 1 2\n", "t.scn:1: usage: speed X");
    bad("wait_clients two\n", "t.scn:1: bad number 'two' for wait_clients");
    bad("wait_clients 4294967297\n", "bad number '4294967297'");
    bad("heartbeat 1m\n", "t.scn:1: bad duration '1m' for heartbeat");
    bad("socket localhost\n", "t.scn:1: bad socket 'localhost'");
    bad("socket \"a b:1\"\n", "bad socket 'a b:1'");
    bad("password \"\"\n", "empty password");
    bad("user nobody\n", "t.scn:1: bad user 'nobody'");
    bad("user @d:p\n", "bad user '@d:p'");
    bad("user u@d:\n", "bad user 'u@d:'");
}

static void lexical(void **state)
{
    vox_sim_scenario scn;
    /* Comments, blank lines, tabs, CRLF, no final newline, quotes mid-word. */
    ok(&scn, "# a comment\r\n"
             "\r\n"
             "   # an indented comment\n"
             "\tpassword\t\"pass word\"\r\n"
             "hostname a\"b c\"d\n"
             "fault garbage \"tab\\there \\\"quoted\\\" back\\\\slash\\r\"\n"
             "call x\n"
             "  dtmf 1s #");
    assert_string_equal(scn.opts.password, "pass word");
    assert_string_equal(scn.opts.hostname, "ab cd");
    assert_string_equal(scn.opts.faults.garbage, "tab\there \"quoted\" back\\slash\r");
    assert_int_equal(scn.ncalls, 1);
    /* A lone # in a dtmf line is a digit: comments are whole lines. */
    assert_string_equal(scn.calls[0].dtmf[0].digits, "#");
    vox_sim_scenario_free(&scn);

    bad("password \"open\n", "t.scn:1: unterminated quote");
    bad("password \"ends with\\\n", "t.scn:1: unterminated quote");
    bad("password \"a\\qb\"\n", "t.scn:1: bad escape '\\q'");
    bad("call a\n  caller 1 a b c d e f g h i j k l m n o p\n", "t.scn:2: too many words");

    static const char nul[] = "speed 1\nspe\0ed 2\n";
    char err[512];
    assert_int_equal(vox_sim_scenario_parse(&scn, "t.scn", nul, sizeof nul - 1, err, sizeof err),
                     -1);
    assert_string_equal(err, "t.scn:2: NUL byte in line");
    vox_sim_scenario_free(&scn);
}

static void long_lines(void **state)
{
    char line[VOX_SIM_SCN_MAX_LINE + 16];
    vox_sim_scenario scn;

    /* Exactly the limit is fine (also with a CR before the newline). */
    int n = snprintf(line, sizeof line, "hostname ");
    memset(line + n, 'h', VOX_SIM_SCN_MAX_LINE - (size_t)n);
    memcpy(line + VOX_SIM_SCN_MAX_LINE, "\r\n", 3);
    ok(&scn, line);
    assert_int_equal(strlen(scn.opts.hostname), VOX_SIM_SCN_MAX_LINE - (size_t)n);
    vox_sim_scenario_free(&scn);

    /* One byte more is an error, not a truncation. */
    memset(line + n, 'h', VOX_SIM_SCN_MAX_LINE + 1 - (size_t)n);
    memcpy(line + VOX_SIM_SCN_MAX_LINE + 1, "\n", 2);
    char text[sizeof line + 16];
    snprintf(text, sizeof text, "speed 2\n%s", line);
    bad(text, "t.scn:2: line too long (more than 1024 bytes)");
}

static void durations(void **state)
{
    static const struct {
        const char *s;
        uint32_t ms;
    } good[] = {{"0", 0},
                {"250", 250},
                {"1500ms", 1500},
                {"2s", 2000},
                {"0.5s", 500},
                {"1.25s", 1250},
                {"0.0015s", 1},
                {"4294967295", 4294967295u},
                {"4294967s", 4294967000u}};
    static const char *const worse[] = {"",    "x",          "-1",       "1.5ms", "1.5",
                                        "5m",  "1h",         "s",        "ms",    ".5s",
                                        "1.s", "4294967296", "4294968s", "1 s",   " 1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint32_t ms = 7;
        assert_int_equal(vox_sim_scenario_duration(good[i].s, &ms), 0);
        assert_int_equal(ms, good[i].ms);
    }
    for (size_t i = 0; i < sizeof worse / sizeof worse[0]; i++) {
        uint32_t ms = 7;
        if (vox_sim_scenario_duration(worse[i], &ms) == 0)
            fail_msg("'%s' accepted as %u ms", worse[i], ms);
        assert_int_equal(ms, 7);
    }
    assert_int_equal(vox_sim_scenario_socket_ok("127.0.0.1:8084"), 1);
    assert_int_equal(vox_sim_scenario_socket_ok("[::1]:8084"), 1);
    assert_int_equal(vox_sim_scenario_socket_ok("127.0.0.1:"), 0);
    assert_int_equal(vox_sim_scenario_socket_ok(NULL), 0);
}

static void missing_socket(void **state)
{
    vox_sim_scenario scn;
    char err[512];

    ok(&scn, "call a\n  socket 127.0.0.1:1\n\ncall b\n");
    assert_int_equal(vox_sim_scenario_check(&scn, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "t.scn:4: call b has no socket"));
    /* A command-line default fills the gap. */
    assert_int_equal(vox_sim_scenario_check(&scn, "127.0.0.1:2", err, sizeof err), 0);
    vox_sim_scenario_free(&scn);

    ok(&scn, "socket 127.0.0.1:1\ncall\n");
    assert_int_equal(vox_sim_scenario_check(&scn, NULL, err, sizeof err), 0);
    vox_sim_scenario_free(&scn);

    ok(&scn, "call\n");
    assert_int_equal(vox_sim_scenario_check(&scn, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "t.scn:1: call 1 has no socket"));
    vox_sim_scenario_free(&scn);
}

static void files(void **state)
{
    vox_sim_scenario scn;
    char err[512], path[] = "/tmp/vox-scn-XXXXXX";

    assert_int_equal(vox_sim_scenario_load(&scn, "/nonexistent/x.scn", err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/x.scn: cannot read: No such file or directory");
    vox_sim_scenario_free(&scn);

    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] = "speed 4\ncall a\n  dtmf 1s 5\n  fault wobble\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    assert_int_equal(vox_sim_scenario_load(&scn, path, err, sizeof err), -1);
    char want[128];
    snprintf(want, sizeof want, "%s:4: unknown call fault 'wobble'", path);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    vox_sim_scenario_free(&scn);
    unlink(path);

    /* A directory is not a scenario. */
    assert_int_equal(vox_sim_scenario_load(&scn, "/tmp", err, sizeof err), -1);
    assert_int_equal(strncmp(err, "/tmp: cannot read: ", 19), 0);
    vox_sim_scenario_free(&scn);

    /* Tiny error buffers truncate, never overflow. */
    char tiny[8];
    assert_int_equal(parse(&scn, "wobble\n", tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "t.scn:1");
    assert_int_equal(parse(&scn, "wobble\n", NULL, 0), -1);
}

static char *demo_text(size_t *len)
{
    const char *dir = getenv("VOX_SRCDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/examples/demo.scn", dir && *dir ? dir : ".");
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the source tree or set VOX_SRCDIR)", path);
    char *b = malloc(1 << 16);
    assert_non_null(b);
    *len = fread(b, 1, (1 << 16) - 1, f);
    b[*len] = '\0';
    fclose(f);
    return b;
}

/* The demo's scenario parses and says what the demo needs: several calls,
 * each with an expected cause, the socket left to the command line. */
static void demo_scenario(void **state)
{
    vox_sim_scenario scn;
    char err[512];
    size_t len;
    char *text = demo_text(&len);

    assert_int_equal(vox_sim_scenario_parse(&scn, "demo.scn", text, len, err, sizeof err), 0);
    assert_true(scn.ncalls >= 5);
    assert_null(scn.opts.socket);
    assert_int_equal(vox_sim_scenario_check(&scn, NULL, err, sizeof err), -1);
    assert_int_equal(vox_sim_scenario_check(&scn, "127.0.0.1:9", err, sizeof err), 0);
    for (size_t i = 0; i < scn.ncalls; i++) {
        assert_non_null(scn.calls[i].name);
        assert_non_null(scn.calls[i].expect_cause);
    }
    vox_sim_scenario_free(&scn);
    free(text);
}

/* Never a crash: every prefix of the demo scenario, and many corrupted
 * copies, parse to 0 or to an error that names a line. */
static void corrupted(void **state)
{
    static const char noise[] = "\"\\#\n\r\t =:x0 ";
    vox_sim_scenario scn;
    char err[512];
    size_t len;
    char *text = demo_text(&len);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    unsigned seed = 12345;

    for (size_t cut = 0; cut <= len; cut++) {
        if (vox_sim_scenario_parse(&scn, "p", text, cut, err, sizeof err) == 0)
            vox_sim_scenario_free(&scn);
        else
            assert_int_equal(strncmp(err, "p:", 2), 0);
    }
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, text, len);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[(seed >> 8) % len] = noise[(seed >> 20) % (sizeof noise - 1)];
        }
        if (vox_sim_scenario_parse(&scn, "p", copy, len, err, sizeof err) == 0)
            vox_sim_scenario_free(&scn);
        else
            assert_int_equal(strncmp(err, "p:", 2), 0);
    }
    free(copy);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),       cmocka_unit_test(globals),
        cmocka_unit_test(endpoints),      cmocka_unit_test(inbound_faults),
        cmocka_unit_test(call_block),     cmocka_unit_test(call_errors),
        cmocka_unit_test(global_errors),  cmocka_unit_test(lexical),
        cmocka_unit_test(long_lines),     cmocka_unit_test(durations),
        cmocka_unit_test(missing_socket), cmocka_unit_test(files),
        cmocka_unit_test(demo_scenario),  cmocka_unit_test(corrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
