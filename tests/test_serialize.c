/* Command serialization: exact bytes, the same bytes a real client sent in the
 * captures, refusal of line breaks in every argument, and all-or-nothing
 * appends (bad argument or failed allocation: the buffer is left as it was). */
#include "util/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

/* Assert that b holds exactly want, then empty it for the next command. */
static void expect_bytes(vox_buf *b, const char *want, size_t n)
{
    assert_non_null(b->data);
    if (b->len != n || memcmp(b->data, want, n) != 0)
        fail_msg("got [%.*s] (%zu bytes), want [%.*s] (%zu bytes)", (int)b->len, b->data, b->len,
                 (int)n, want, n);
    assert_int_equal(b->data[b->len], '\0');
    b->len = 0;
}

static void expect(vox_buf *b, const char *want)
{
    expect_bytes(b, want, strlen(want));
}

/* Fill b with a prefix so that "unchanged" means something. */
static void prefill(vox_buf *b)
{
    vox_buf_free(b);
    assert_int_equal(vox_cmd_line(b, "prefix"), 0);
}

static void assert_prefix_only(const vox_buf *b)
{
    assert_int_equal(b->len, 8);
    assert_memory_equal(b->data, "prefix\n\n", 9);
}

/* ------------------------------------------------------- exact bytes */

static void test_auth(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_auth(&b, "ClueCon"), 0);
    expect(&b, "auth ClueCon\n\n");
    assert_int_equal(vox_cmd_auth(&b, "1000@127.0.0.1:secret1000"), 0);
    expect(&b, "userauth 1000@127.0.0.1:secret1000\n\n");
    /* Not user@domain:password: a plain password with odd characters. */
    assert_int_equal(vox_cmd_auth(&b, "p@ss"), 0);
    expect(&b, "auth p@ss\n\n");
    assert_int_equal(vox_cmd_auth(&b, "@dom:pw"), 0);
    expect(&b, "auth @dom:pw\n\n");
    assert_int_equal(vox_cmd_auth(&b, "a:b@c"), 0);
    expect(&b, "auth a:b@c\n\n");
    assert_int_equal(vox_cmd_auth(&b, "with space"), 0);
    expect(&b, "auth with space\n\n");
    assert_int_equal(vox_cmd_auth(&b, ""), VOX_EINVAL);
    assert_int_equal(vox_cmd_auth(&b, NULL), VOX_EINVAL);
    assert_int_equal(vox_cmd_auth(NULL, "ClueCon"), VOX_EINVAL);
    assert_int_equal(b.len, 0);
    vox_buf_free(&b);
}

static void test_api_bgapi(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_api(&b, "status", NULL), 0);
    expect(&b, "api status\n\n");
    assert_int_equal(vox_cmd_api(&b, "status", ""), 0);
    expect(&b, "api status\n\n");
    assert_int_equal(vox_cmd_api(&b, "originate", "loopback/9105/default &park"), 0);
    expect(&b, "api originate loopback/9105/default &park\n\n");
    assert_int_equal(vox_cmd_api(&b, "", "x"), VOX_EINVAL);
    assert_int_equal(vox_cmd_api(&b, NULL, "x"), VOX_EINVAL);

    assert_int_equal(vox_cmd_bgapi(&b, "status", NULL, NULL), 0);
    expect(&b, "bgapi status\n\n");
    assert_int_equal(vox_cmd_bgapi(&b, "version", NULL, "my-own-job-uuid-1234"), 0);
    expect(&b, "bgapi version\nJob-UUID: my-own-job-uuid-1234\n\n");
    assert_int_equal(vox_cmd_bgapi(&b, "foobarbaz", "arg1 arg2", ""), 0);
    expect(&b, "bgapi foobarbaz arg1 arg2\n\n");
    assert_int_equal(vox_cmd_bgapi(&b, NULL, NULL, "j"), VOX_EINVAL);
    assert_int_equal(b.len, 0);
    vox_buf_free(&b);
}

static void test_events(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_event(&b, VOX_FMT_PLAIN, "ALL"), 0);
    expect(&b, "event plain ALL\n\n");
    assert_int_equal(vox_cmd_event(&b, VOX_FMT_JSON, "CHANNEL_CREATE"), 0);
    expect(&b, "event json CHANNEL_CREATE\n\n");
    assert_int_equal(vox_cmd_event(&b, VOX_FMT_XML, "HEARTBEAT CUSTOM sofia::register"), 0);
    expect(&b, "event xml HEARTBEAT CUSTOM sofia::register\n\n");
    assert_int_equal(vox_cmd_event(&b, (vox_format)7, "ALL"), VOX_EINVAL);
    assert_int_equal(vox_cmd_event(&b, VOX_FMT_PLAIN, ""), VOX_EINVAL);
    assert_int_equal(vox_cmd_event(&b, VOX_FMT_PLAIN, NULL), VOX_EINVAL);

    assert_int_equal(vox_cmd_nixevent(&b, "HEARTBEAT"), 0);
    expect(&b, "nixevent HEARTBEAT\n\n");
    assert_int_equal(vox_cmd_nixevent(&b, ""), VOX_EINVAL);
    assert_int_equal(vox_cmd_nixevent(&b, NULL), VOX_EINVAL);

    assert_int_equal(vox_cmd_myevents(&b, NULL, VOX_FMT_PLAIN), 0);
    expect(&b, "myevents\n\n");
    assert_int_equal(vox_cmd_myevents(&b, NULL, VOX_FMT_JSON), 0);
    expect(&b, "myevents json\n\n");
    assert_int_equal(vox_cmd_myevents(&b, "8d294bef-7a32-4e1e-9ea8-68c24be254f1", VOX_FMT_PLAIN),
                     0);
    expect(&b, "myevents 8d294bef-7a32-4e1e-9ea8-68c24be254f1\n\n");
    assert_int_equal(vox_cmd_myevents(&b, "7c599d1a", VOX_FMT_XML), 0);
    expect(&b, "myevents 7c599d1a xml\n\n");
    assert_int_equal(vox_cmd_myevents(&b, "", VOX_FMT_PLAIN), 0);
    expect(&b, "myevents\n\n");
    assert_int_equal(vox_cmd_myevents(&b, NULL, (vox_format)-1), VOX_EINVAL);
    assert_int_equal(b.len, 0);
    vox_buf_free(&b);
}

static void test_filter(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_filter(&b, "Event-Name", "HEARTBEAT"), 0);
    expect(&b, "filter Event-Name HEARTBEAT\n\n");
    assert_int_equal(vox_cmd_filter(&b, "variable_x", "a value with spaces"), 0);
    expect(&b, "filter variable_x a value with spaces\n\n");
    assert_int_equal(vox_cmd_filter(&b, "Unique-ID", NULL), VOX_EINVAL);
    assert_int_equal(vox_cmd_filter(&b, "Unique-ID", ""), VOX_EINVAL);
    assert_int_equal(vox_cmd_filter(&b, NULL, "x"), VOX_EINVAL);
    assert_int_equal(vox_cmd_filter(&b, "", "x"), VOX_EINVAL);
    /* FreeSWITCH splits at the first space: such a header cannot be named. */
    assert_int_equal(vox_cmd_filter(&b, "Event Name", "x"), VOX_EINVAL);

    assert_int_equal(vox_cmd_filter_delete(&b, "Event-Name", "HEARTBEAT"), 0);
    expect(&b, "filter delete Event-Name HEARTBEAT\n\n");
    assert_int_equal(vox_cmd_filter_delete(&b, "Event-Name", NULL), 0);
    expect(&b, "filter delete Event-Name\n\n");
    assert_int_equal(vox_cmd_filter_delete(&b, NULL, NULL), 0);
    expect(&b, "filter delete all\n\n");
    assert_int_equal(vox_cmd_filter_delete(&b, NULL, "HEARTBEAT"), VOX_EINVAL);
    assert_int_equal(vox_cmd_filter_delete(&b, "", NULL), VOX_EINVAL);
    assert_int_equal(vox_cmd_filter_delete(&b, "A B", NULL), VOX_EINVAL);
    assert_int_equal(b.len, 0);
    vox_buf_free(&b);
}

static void test_small_commands(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_divert_events(&b, 1), 0);
    expect(&b, "divert_events on\n\n");
    assert_int_equal(vox_cmd_divert_events(&b, 0), 0);
    expect(&b, "divert_events off\n\n");
    assert_int_equal(vox_cmd_linger(&b, 0), 0);
    expect(&b, "linger\n\n");
    assert_int_equal(vox_cmd_linger(&b, -3), 0);
    expect(&b, "linger\n\n");
    assert_int_equal(vox_cmd_linger(&b, 2), 0);
    expect(&b, "linger 2\n\n");
    assert_int_equal(vox_cmd_linger(&b, 2147483647), 0);
    expect(&b, "linger 2147483647\n\n");
    assert_int_equal(vox_cmd_log(&b, "7"), 0);
    expect(&b, "log 7\n\n");
    assert_int_equal(vox_cmd_log(&b, "debug"), 0);
    expect(&b, "log debug\n\n");
    assert_int_equal(vox_cmd_log(&b, ""), VOX_EINVAL);
    assert_int_equal(vox_cmd_log(&b, NULL), VOX_EINVAL);
    assert_int_equal(vox_cmd_getvar(&b, "foo"), 0);
    expect(&b, "getvar foo\n\n");
    assert_int_equal(vox_cmd_getvar(&b, ""), VOX_EINVAL);
    assert_int_equal(vox_cmd_getvar(&b, NULL), VOX_EINVAL);
    const char *words[] = {"connect", "noevents", "nolinger", "nolog", "resume", "exit"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "%s\n\n", words[i]);
        assert_int_equal(vox_cmd_line(&b, words[i]), 0);
        expect(&b, want);
    }
    assert_int_equal(vox_cmd_line(&b, ""), VOX_EINVAL);
    assert_int_equal(vox_cmd_line(&b, NULL), VOX_EINVAL);
    assert_int_equal(b.len, 0);
    vox_buf_free(&b);
}

static void test_format_name(void **state)
{
    assert_string_equal(vox_format_name(VOX_FMT_PLAIN), "plain");
    assert_string_equal(vox_format_name(VOX_FMT_JSON), "json");
    assert_string_equal(vox_format_name(VOX_FMT_XML), "xml");
    assert_string_equal(vox_format_name((vox_format)42), "unknown");
}

static void test_sendevent(void **state)
{
    vox_buf b = {0};
    vox_header h[] = {{"Event-Subclass", "my::thing"}, {"X-Empty", ""}};
    assert_int_equal(vox_cmd_sendevent(&b, "CUSTOM", h, 2, NULL, 0), 0);
    expect(&b, "sendevent CUSTOM\nEvent-Subclass: my::thing\nX-Empty: \n\n");
    assert_int_equal(vox_cmd_sendevent(&b, "NOTIFY", NULL, 0, NULL, 0), 0);
    expect(&b, "sendevent NOTIFY\n\n");
    /* The body may hold any bytes, line breaks and NULs included. */
    static const char want[] = "sendevent CUSTOM\nEvent-Subclass: my::thing\n"
                               "content-length: 7\n\na\nb\0c\r\n";
    assert_int_equal(vox_cmd_sendevent(&b, "CUSTOM", h, 1, "a\nb\0c\r\n", 7), 0);
    expect_bytes(&b, want, sizeof want - 1);
    assert_int_equal(vox_cmd_sendevent(&b, "", NULL, 0, NULL, 0), VOX_EINVAL);
    assert_int_equal(vox_cmd_sendevent(&b, NULL, NULL, 0, NULL, 0), VOX_EINVAL);
    assert_int_equal(vox_cmd_sendevent(&b, "X", NULL, 1, NULL, 0), VOX_EINVAL);
    assert_int_equal(vox_cmd_sendevent(&b, "X", NULL, 0, NULL, 3), VOX_EINVAL);
    /* FreeSWITCH drops a client whose body is over 16 MiB: refused here */
    static char big[VOX_MAX_COMMAND_BODY + 1];
    assert_int_equal(vox_cmd_sendevent(&b, "X", NULL, 0, big, sizeof big), VOX_EINVAL);
    assert_int_equal(vox_cmd_sendmsg(&b, NULL, NULL, 0, big, sizeof big), VOX_EINVAL);
    assert_int_equal(b.len, 0);
    assert_int_equal(vox_cmd_sendevent(&b, "X", NULL, 0, big, sizeof big - 1), 0);
    vox_buf_free(&b);
}

static void test_sendmsg(void **state)
{
    vox_buf b = {0};
    vox_header h[] = {{"call-command", "unicast"}, {"local-ip", "127.0.0.1"}};
    assert_int_equal(vox_cmd_sendmsg(&b, "abc", h, 2, NULL, 0), 0);
    expect(&b, "sendmsg abc\ncall-command: unicast\nlocal-ip: 127.0.0.1\n\n");
    assert_int_equal(vox_cmd_sendmsg(&b, NULL, h, 1, NULL, 0), 0);
    expect(&b, "sendmsg\ncall-command: unicast\n\n");
    assert_int_equal(vox_cmd_sendmsg(&b, "", NULL, 0, NULL, 0), 0);
    expect(&b, "sendmsg\n\n");
    vox_header t[] = {{"call-command", "execute"}, {"content-type", "text/plain"}};
    assert_int_equal(vox_cmd_sendmsg(&b, NULL, t, 2, "x\ny", 3), 0);
    expect(&b, "sendmsg\ncall-command: execute\ncontent-type: text/plain\n"
               "content-length: 3\n\nx\ny");
    vox_buf_free(&b);
}

static void test_execute(void **state)
{
    vox_buf b = {0};
    vox_execute x = {.app = "answer"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    expect(&b, "sendmsg\ncall-command: execute\nexecute-app-name: answer\n\n");

    x = (vox_execute){.app = "playback",
                      .arg = "tone_stream://%(600,0,500)",
                      .loops = 3,
                      .event_lock = 1,
                      .event_uuid = "c0ffee01-0000-4000-8000-000000000002"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    expect(&b, "sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
               "execute-app-arg: tone_stream://%(600,0,500)\nloops: 3\nevent-lock: true\n"
               "Event-UUID: c0ffee01-0000-4000-8000-000000000002\n\n");

    vox_header h[] = {{"X-Mine", "1"}};
    x = (vox_execute){.app = "bridge",
                      .arg = "",
                      .uuid = "u-1",
                      .loops = -1,
                      .hold_bleg = 1,
                      .async = 1,
                      .headers = h,
                      .nheaders = 1};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    expect(&b, "sendmsg u-1\ncall-command: execute\nexecute-app-name: bridge\nloops: -1\n"
               "hold-bleg: true\nasync: true\nX-Mine: 1\n\n");

    /* loops 0 and 1 mean once: no header. Below -1 is meaningless. */
    x = (vox_execute){.app = "a", .loops = 1};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    expect(&b, "sendmsg\ncall-command: execute\nexecute-app-name: a\n\n");
    x.loops = -2;
    assert_int_equal(vox_cmd_execute(&b, &x), VOX_EINVAL);
    x = (vox_execute){.app = ""};
    assert_int_equal(vox_cmd_execute(&b, &x), VOX_EINVAL);
    x.app = NULL;
    assert_int_equal(vox_cmd_execute(&b, &x), VOX_EINVAL);
    assert_int_equal(vox_cmd_execute(&b, NULL), VOX_EINVAL);
    x = (vox_execute){.app = "a", .nheaders = 1};
    assert_int_equal(vox_cmd_execute(&b, &x), VOX_EINVAL);
    assert_int_equal(b.len, 0);
    vox_buf_free(&b);
}

/* A multi-line argument goes in a text/plain body, without execute-app-arg. */
static void test_execute_multiline_arg(void **state)
{
    vox_buf b = {0};
    vox_execute x = {.app = "set", .arg = "a=1\nb=2\r\n", .event_lock = 1, .event_uuid = "e1"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    expect(&b, "sendmsg\ncall-command: execute\nexecute-app-name: set\nevent-lock: true\n"
               "Event-UUID: e1\ncontent-type: text/plain\ncontent-length: 9\n\na=1\nb=2\r\n");
    x.arg = "\r";
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    expect(&b, "sendmsg\ncall-command: execute\nexecute-app-name: set\nevent-lock: true\n"
               "Event-UUID: e1\ncontent-type: text/plain\ncontent-length: 1\n\n\r");
    /* The body's own content-type must not be set twice. */
    vox_header h[] = {{"Content-Type", "text/html"}};
    x.arg = "a\nb";
    x.headers = h;
    x.nheaders = 1;
    assert_int_equal(vox_cmd_execute(&b, &x), VOX_EINVAL);
    x.arg = "one line";
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    expect(&b, "sendmsg\ncall-command: execute\nexecute-app-name: set\n"
               "execute-app-arg: one line\nevent-lock: true\nEvent-UUID: e1\n"
               "Content-Type: text/html\n\n");
    vox_buf_free(&b);
}

static void test_hangup(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_hangup(&b, "fe66", "NORMAL_CLEARING"), 0);
    expect(&b, "sendmsg fe66\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n");
    assert_int_equal(vox_cmd_hangup(&b, NULL, NULL), 0);
    expect(&b, "sendmsg\ncall-command: hangup\n\n");
    assert_int_equal(vox_cmd_hangup(&b, "", ""), 0);
    expect(&b, "sendmsg\ncall-command: hangup\n\n");
    vox_buf_free(&b);
}

/* Several commands append one after the other. */
static void test_appends(void **state)
{
    vox_buf b = {0};
    prefill(&b);
    assert_int_equal(vox_cmd_api(&b, "status", NULL), 0);
    assert_int_equal(vox_cmd_line(&b, "exit"), 0);
    expect(&b, "prefix\n\napi status\n\nexit\n\n");
    vox_buf_free(&b);
    vox_buf_free(&b);
    assert_null(b.data);
    vox_buf_free(NULL);
}

/* ------------------------------------------- the captured client bytes */

static void expect_fixture(vox_buf *b, const char *name)
{
    size_t n;
    char *want = tu_fixture(name, &n);
    expect_bytes(b, want, n);
    free(want);
}

static void test_fixture_inbound_01(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_auth(&b, "ClueCon"), 0);
    assert_int_equal(vox_cmd_api(&b, "status", NULL), 0);
    assert_int_equal(vox_cmd_api(&b, "version", NULL), 0);
    assert_int_equal(vox_cmd_line(&b, "exit"), 0);
    expect_fixture(&b, "inbound_01_auth_ok_api_status_version.c2s.raw");
    vox_buf_free(&b);
}

static void test_fixture_inbound_07_filter(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_auth(&b, "ClueCon"), 0);
    assert_int_equal(vox_cmd_event(&b, VOX_FMT_PLAIN, "ALL"), 0);
    assert_int_equal(vox_cmd_filter(&b, "Event-Name", "HEARTBEAT"), 0);
    assert_int_equal(vox_cmd_filter(&b, "Event-Name", "CHANNEL_CREATE"), 0);
    assert_int_equal(vox_cmd_filter_delete(&b, "Event-Name", "HEARTBEAT"), 0);
    assert_int_equal(vox_cmd_filter_delete(&b, NULL, NULL), 0);
    /* The capture's deliberately bad and `add` forms go through vox_cmd_line. */
    assert_int_equal(vox_cmd_line(&b, "filter Unique-ID"), 0);
    assert_int_equal(vox_cmd_line(&b, "filter add Event-Name RE_SCHEDULE"), 0);
    assert_int_equal(vox_cmd_filter_delete(&b, "Event-Name", NULL), 0);
    assert_int_equal(vox_cmd_line(&b, "noevents"), 0);
    assert_int_equal(vox_cmd_line(&b, "exit"), 0);
    expect_fixture(&b, "inbound_07_filter.c2s.raw");
    vox_buf_free(&b);
}

static void test_fixture_inbound_12_bgapi(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_auth(&b, "ClueCon"), 0);
    assert_int_equal(vox_cmd_event(&b, VOX_FMT_PLAIN, "BACKGROUND_JOB"), 0);
    assert_int_equal(vox_cmd_bgapi(&b, "status", NULL, NULL), 0);
    assert_int_equal(vox_cmd_bgapi(&b, "version", NULL, "my-own-job-uuid-1234"), 0);
    assert_int_equal(vox_cmd_bgapi(&b, "foobarbaz", "arg1 arg2", NULL), 0);
    assert_int_equal(vox_cmd_line(&b, "exit"), 0);
    expect_fixture(&b, "inbound_12_bgapi.c2s.raw");
    vox_buf_free(&b);
}

static void test_fixture_inbound_15_sendmsg(void **state)
{
    static const char uuid[] = "fe66a1fb-5780-43c5-af3d-885b8ef8c963";
    vox_buf b = {0};
    assert_int_equal(vox_cmd_auth(&b, "ClueCon"), 0);
    assert_int_equal(vox_cmd_event(&b, VOX_FMT_PLAIN,
                                   "CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP "
                                   "CHANNEL_HANGUP_COMPLETE CHANNEL_DESTROY"),
                     0);
    assert_int_equal(vox_cmd_api(&b, "originate", "loopback/9105/default &park"), 0);
    vox_execute x = {
        .app = "playback", .arg = "tone_stream://%(200,0,800)", .uuid = uuid, .event_lock = 1};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    x.app = "set";
    x.arg = "foo=bar";
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    assert_int_equal(vox_cmd_api(&b, "uuid_getvar", "fe66a1fb-5780-43c5-af3d-885b8ef8c963 foo"), 0);
    assert_int_equal(vox_cmd_hangup(&b, uuid, "NORMAL_CLEARING"), 0);
    x = (vox_execute){.app = "answer", .uuid = "11111111-2222-3333-4444-555555555555"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    assert_int_equal(vox_cmd_line(&b, "exit"), 0);
    expect_fixture(&b, "inbound_15_sendmsg_parked_channel.c2s.raw");
    vox_buf_free(&b);
}

static void test_fixture_inbound_17_myevents(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_auth(&b, "ClueCon"), 0);
    assert_int_equal(vox_cmd_myevents(&b, "8d294bef-7a32-4e1e-9ea8-68c24be254f1", VOX_FMT_PLAIN),
                     0);
    assert_int_equal(vox_cmd_divert_events(&b, 1), 0);
    assert_int_equal(vox_cmd_divert_events(&b, 0), 0);
    assert_int_equal(vox_cmd_linger(&b, 2), 0);
    vox_execute x = {.app = "playback", .arg = "tone_stream://%(200,0,800)", .event_lock = 1};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    assert_int_equal(vox_cmd_hangup(&b, NULL, "NORMAL_CLEARING"), 0);
    expect_fixture(&b, "inbound_17_myevents_uuid_divert_linger.c2s.raw");
    vox_buf_free(&b);
}

static void test_fixture_inbound_27_userauth(void **state)
{
    vox_buf b = {0};
    assert_int_equal(vox_cmd_auth(&b, "1000@127.0.0.1:secret1000"), 0);
    assert_int_equal(vox_cmd_api(&b, "status", NULL), 0);
    assert_int_equal(vox_cmd_event(&b, VOX_FMT_PLAIN, "HEARTBEAT"), 0);
    assert_int_equal(vox_cmd_log(&b, "7"), 0);
    assert_int_equal(vox_cmd_line(&b, "nolog"), 0);
    assert_int_equal(vox_cmd_line(&b, "exit"), 0);
    expect_fixture(&b, "inbound_27_userauth.c2s.raw");
    vox_buf_free(&b);
}

static void outbound_start(vox_buf *b, int linger)
{
    assert_int_equal(vox_cmd_line(b, "connect"), 0);
    assert_int_equal(vox_cmd_myevents(b, NULL, VOX_FMT_PLAIN), 0);
    assert_int_equal(vox_cmd_linger(b, linger), 0);
}

static void test_fixture_outbound_loops3(void **state)
{
    vox_buf b = {0};
    outbound_start(&b, 0);
    vox_execute x = {
        .app = "answer", .event_lock = 1, .event_uuid = "c0ffee01-0000-4000-8000-000000000001"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    x = (vox_execute){.app = "playback",
                      .arg = "tone_stream://%(600,0,500)",
                      .loops = 3,
                      .event_lock = 1,
                      .event_uuid = "c0ffee01-0000-4000-8000-000000000002"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    x = (vox_execute){
        .app = "hangup", .event_lock = 1, .event_uuid = "c0ffee01-0000-4000-8000-000000000003"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    assert_int_equal(vox_cmd_line(&b, "exit"), 0);
    expect_fixture(&b, "outbound_loops3.c2s.raw");
    vox_buf_free(&b);
}

static void test_fixture_outbound_9100(void **state)
{
    vox_buf b = {0};
    outbound_start(&b, 2);
    vox_execute x = {.app = "playback",
                     .arg = "tone_stream://%(200,0,800)",
                     .event_lock = 1,
                     .event_uuid = "a1b2c3d4-0000-4000-8000-000000000001"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    x = (vox_execute){.app = "set",
                      .arg = "foo=bar",
                      .event_lock = 1,
                      .event_uuid = "a1b2c3d4-0000-4000-8000-000000000002"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    x = (vox_execute){
        .app = "hangup", .event_lock = 1, .event_uuid = "a1b2c3d4-0000-4000-8000-000000000003"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    expect_fixture(&b, "outbound_9100_preanswered_event_uuid_linger2.c2s.raw");
    vox_buf_free(&b);
}

/* A hangup with event-lock and Event-UUID is a plain sendmsg. */
static void test_fixture_outbound_callcommand_hangup(void **state)
{
    vox_buf b = {0};
    outbound_start(&b, 0);
    vox_execute x = {
        .app = "answer", .event_lock = 1, .event_uuid = "c0ffee09-0000-4000-8000-000000000001"};
    assert_int_equal(vox_cmd_execute(&b, &x), 0);
    vox_header h[] = {{"call-command", "hangup"},
                      {"hangup-cause", "USER_BUSY"},
                      {"event-lock", "true"},
                      {"Event-UUID", "c0ffee09-0000-4000-8000-000000000002"}};
    assert_int_equal(vox_cmd_sendmsg(&b, NULL, h, 4, NULL, 0), 0);
    assert_int_equal(vox_cmd_line(&b, "exit"), 0);
    expect_fixture(&b, "outbound_callcommand_hangup.c2s.raw");
    vox_buf_free(&b);
}

/* ------------------------------------ every text argument is checked */

/* Each case calls one serializer with its arguments taken from a[]; every
 * slot holds a valid value by default. */
typedef struct argcase {
    const char *name;
    size_t nargs;
    const char *args[8];
    unsigned crlf_ok; /* slots that may hold line breaks (bodies) */
    int (*call)(vox_buf *b, const char *const *a);
} argcase;

static int c_auth(vox_buf *b, const char *const *a)
{
    return vox_cmd_auth(b, a[0]);
}
static int c_api(vox_buf *b, const char *const *a)
{
    return vox_cmd_api(b, a[0], a[1]);
}
static int c_bgapi(vox_buf *b, const char *const *a)
{
    return vox_cmd_bgapi(b, a[0], a[1], a[2]);
}
static int c_event(vox_buf *b, const char *const *a)
{
    return vox_cmd_event(b, VOX_FMT_JSON, a[0]);
}
static int c_nixevent(vox_buf *b, const char *const *a)
{
    return vox_cmd_nixevent(b, a[0]);
}
static int c_myevents(vox_buf *b, const char *const *a)
{
    return vox_cmd_myevents(b, a[0], VOX_FMT_XML);
}
static int c_filter(vox_buf *b, const char *const *a)
{
    return vox_cmd_filter(b, a[0], a[1]);
}
static int c_filter_delete(vox_buf *b, const char *const *a)
{
    return vox_cmd_filter_delete(b, a[0], a[1]);
}
static int c_log(vox_buf *b, const char *const *a)
{
    return vox_cmd_log(b, a[0]);
}
static int c_getvar(vox_buf *b, const char *const *a)
{
    return vox_cmd_getvar(b, a[0]);
}
static int c_line(vox_buf *b, const char *const *a)
{
    return vox_cmd_line(b, a[0]);
}
static int c_divert(vox_buf *b, const char *const *a)
{
    return vox_cmd_divert_events(b, 1);
}
static int c_linger(vox_buf *b, const char *const *a)
{
    return vox_cmd_linger(b, 5);
}
static int c_sendevent(vox_buf *b, const char *const *a)
{
    vox_header h[] = {{a[1], a[2]}, {a[3], a[4]}};
    return vox_cmd_sendevent(b, a[0], h, 2, a[5], strlen(a[5]));
}
static int c_sendmsg(vox_buf *b, const char *const *a)
{
    vox_header h[] = {{a[1], a[2]}, {a[3], a[4]}};
    return vox_cmd_sendmsg(b, a[0], h, 2, a[5], strlen(a[5]));
}
static int c_execute(vox_buf *b, const char *const *a)
{
    vox_header h[] = {{a[4], a[5]}};
    vox_execute x = {.app = a[0],
                     .arg = a[1],
                     .uuid = a[2],
                     .event_uuid = a[3],
                     .loops = 2,
                     .event_lock = 1,
                     .hold_bleg = 1,
                     .async = 1,
                     .headers = h,
                     .nheaders = 1};
    return vox_cmd_execute(b, &x);
}
static int c_hangup(vox_buf *b, const char *const *a)
{
    return vox_cmd_hangup(b, a[0], a[1]);
}

static const argcase cases[] = {
    {"auth", 1, {"ClueCon"}, 0, c_auth},
    {"userauth", 1, {"u@d:p"}, 0, c_auth},
    {"api", 2, {"status", "x y"}, 0, c_api},
    {"bgapi", 3, {"originate", "a b", "job-1"}, 0, c_bgapi},
    {"event", 1, {"ALL"}, 0, c_event},
    {"nixevent", 1, {"HEARTBEAT"}, 0, c_nixevent},
    {"myevents", 1, {"uuid-1"}, 0, c_myevents},
    {"filter", 2, {"Event-Name", "HEARTBEAT"}, 0, c_filter},
    {"filter_delete", 2, {"Event-Name", "HEARTBEAT"}, 0, c_filter_delete},
    {"log", 1, {"debug"}, 0, c_log},
    {"getvar", 1, {"foo"}, 0, c_getvar},
    {"line", 1, {"noevents"}, 0, c_line},
    {"divert_events", 0, {NULL}, 0, c_divert},
    {"linger", 0, {NULL}, 0, c_linger},
    {"sendevent",
     6,
     {"CUSTOM", "Event-Subclass", "a::b", "X-Y", "z", "body\n"},
     1u << 5,
     c_sendevent},
    {"sendmsg",
     6,
     {"uuid-1", "call-command", "unicast", "local-ip", "::1", "body\r\n"},
     1u << 5,
     c_sendmsg},
    {"execute", 6, {"playback", "a.wav", "uuid-1", "ev-1", "X-H", "v"}, 1u << 1, c_execute},
    {"hangup", 2, {"uuid-1", "USER_BUSY"}, 0, c_hangup},
};

static const char *const crlf_values[] = {"a\rb", "a\nb", "\n", "\r", "x\r\n", "\r\ny"};

static void test_crlf_every_argument(void **state)
{
    vox_buf b = {0};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const argcase *k = &cases[c];
        prefill(&b);
        if (k->call(&b, k->args) != 0)
            fail_msg("%s: valid arguments refused", k->name);
        assert_true(b.len > 8);
        for (size_t i = 0; i < k->nargs; i++) {
            if (k->crlf_ok & (1u << i))
                continue;
            for (size_t v = 0; v < sizeof crlf_values / sizeof crlf_values[0]; v++) {
                const char *a[8];
                memcpy(a, k->args, sizeof a);
                a[i] = crlf_values[v];
                prefill(&b);
                if (k->call(&b, a) != VOX_EINVAL)
                    fail_msg("%s: argument %zu with a line break accepted", k->name, i);
                assert_prefix_only(&b);
            }
        }
    }
    vox_buf_free(&b);
}

/* Header names and values of sendevent, sendmsg and execute. */
static void test_bad_user_headers(void **state)
{
    static const struct {
        const char *name, *value;
    } bad[] = {
        {NULL, "v"},
        {"N", NULL},
        {"", "v"},
        {"A:B", "v"},
        {":", "v"},
        {"Name:", "v"},
        {"content-length", "3"},
        {"Content-Length", "0"},
        {"CONTENT-LENGTH", "x"},
        {"a\nb", "v"},
        {"a", "v\r"},
    };
    static const size_t slots[][2] = {{1, 2}, {3, 4}};
    vox_buf b = {0};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const argcase *k = &cases[c];
        if (k->call != c_sendevent && k->call != c_sendmsg && k->call != c_execute)
            continue;
        size_t nslots = k->call == c_execute ? 1 : 2;
        for (size_t s = 0; s < nslots; s++) {
            size_t ni = k->call == c_execute ? 4 : slots[s][0];
            for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                const char *a[8];
                memcpy(a, k->args, sizeof a);
                a[ni] = bad[i].name;
                a[ni + 1] = bad[i].value;
                prefill(&b);
                if (k->call(&b, a) != VOX_EINVAL)
                    fail_msg("%s: header %zu [%s] accepted", k->name, i,
                             bad[i].name ? bad[i].name : "(null)");
                assert_prefix_only(&b);
            }
        }
    }
    vox_buf_free(&b);
}

/* ------------------------------------------------- allocation failure */

static void check_enomem(const argcase *k, vox_buf *b)
{
    size_t len = b->len, cap = b->cap;
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, b->data, len);
    char *data = b->data;
    tu_fail_after(0);
    int rc = k->call(b, k->args);
    tu_fail_off();
    if (rc != VOX_ENOMEM)
        fail_msg("%s: %d instead of VOX_ENOMEM", k->name, rc);
    assert_ptr_equal(b->data, data);
    assert_int_equal(b->len, len);
    assert_int_equal(b->cap, cap);
    if (len)
        assert_memory_equal(b->data, copy, len);
    free(copy);
}

/* A buffer filled to one byte short of its capacity must grow for any
 * command. */
static void fill_to_capacity(vox_buf *b)
{
    char line[300];
    memset(line, 'x', sizeof line);
    line[253] = '\0';
    assert_int_equal(vox_cmd_line(b, line), 0);
    assert_int_equal(b->len + 1, b->cap);
}

static void test_enomem_leaves_buffer(void **state)
{
    tu_alloc_install();
    long live = tu_live();
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        vox_buf b = {0};
        check_enomem(&cases[c], &b); /* empty, never allocated */
        assert_null(b.data);
        fill_to_capacity(&b);
        check_enomem(&cases[c], &b);
        /* With memory back, the same call succeeds and appends. */
        size_t before = b.len;
        assert_int_equal(cases[c].call(&b, cases[c].args), 0);
        assert_true(b.len > before);
        vox_buf_free(&b);
        assert_int_equal(tu_live(), live);
    }
    tu_alloc_uninstall();
}

/* The multi-line execute argument and a large body also go all or nothing. */
static void test_enomem_body(void **state)
{
    tu_alloc_install();
    vox_buf b = {0};
    prefill(&b);
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'l', n);
    big[n] = '\0';
    big[10] = '\n';
    vox_execute x = {.app = "set", .arg = big};
    tu_fail_after(0);
    assert_int_equal(vox_cmd_execute(&b, &x), VOX_ENOMEM);
    assert_int_equal(vox_cmd_sendevent(&b, "CUSTOM", NULL, 0, big, n), VOX_ENOMEM);
    tu_fail_off();
    assert_prefix_only(&b);
    assert_int_equal(vox_cmd_sendevent(&b, "CUSTOM", NULL, 0, big, n), 0);
    static const char head[] = "prefix\n\nsendevent CUSTOM\ncontent-length: 100000\n\n";
    assert_int_equal(b.len, sizeof head - 1 + n);
    assert_memory_equal(b.data, head, sizeof head - 1);
    assert_memory_equal(b.data + sizeof head - 1, big, n);
    free(big);
    vox_buf_free(&b);
    assert_int_equal(tu_live(), 0);
    tu_alloc_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_api_bgapi),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_small_commands),
        cmocka_unit_test(test_format_name),
        cmocka_unit_test(test_sendevent),
        cmocka_unit_test(test_sendmsg),
        cmocka_unit_test(test_execute),
        cmocka_unit_test(test_execute_multiline_arg),
        cmocka_unit_test(test_hangup),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_fixture_inbound_01),
        cmocka_unit_test(test_fixture_inbound_07_filter),
        cmocka_unit_test(test_fixture_inbound_12_bgapi),
        cmocka_unit_test(test_fixture_inbound_15_sendmsg),
        cmocka_unit_test(test_fixture_inbound_17_myevents),
        cmocka_unit_test(test_fixture_inbound_27_userauth),
        cmocka_unit_test(test_fixture_outbound_loops3),
        cmocka_unit_test(test_fixture_outbound_9100),
        cmocka_unit_test(test_fixture_outbound_callcommand_hangup),
        cmocka_unit_test(test_crlf_every_argument),
        cmocka_unit_test(test_bad_user_headers),
        cmocka_unit_test(test_enomem_leaves_buffer),
        cmocka_unit_test(test_enomem_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
