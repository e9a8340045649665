/* vox-sim's outbound socket seen byte by byte from its server end: a static
 * socket, the order of events around a hangup with linger, resume, an exit
 * before anything ran; and channels joined with uuid_bridge through the api.
 * The simulator runs fast (speed 20): simulated seconds pass in tens of real
 * milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/client.h>

#include "test_sim_util.h"

#define SPEED 20
#define WAIT_MS 20000

#define PLAY1S                                                                                     \
    "sendmsg\ncall-command: execute\nexecute-app-name: playback\n"                                 \
    "execute-app-arg: silence_stream://1000\nevent-lock: true\n\n"

/* A scripted call whose socket we serve: connected, cmds sent, and the first
 * frame (the connect reply) returned; free it with vox_msg_free. */
static vox_msg *call_up(outb *ob, vox_sim_call call, const char *cmds)
{
    vox_sim_opts o = sim_opts(SPEED);
    outb_start(ob, &o, call);
    peer_sends(&ob->c, cmds);
    frame f;
    assert_int_equal(peer_frame(&ob->c, &f), 1);
    free(f.bytes);
    return f.m;
}

/* The peer sent exit (or resume): the connection closes, the call ends. */
static vox_sim_result call_ends(outb *ob)
{
    peer_until(&ob->c, "eof");
    assert_int_equal(vox_sim_wait(ob->s, WAIT_MS), 0);
    return outb_result(ob);
}

/* Without `async` the reply waits for the application's end, and its
 * events follow the reply; no CHANNEL_PARK. */
static void test_static_socket(void **state)
{
    (void)state;
    outb ob;
    vox_msg *m = call_up(&ob, (vox_sim_call){.fault = VOX_SIM_CALL_NO_ASYNC}, "connect\n\n");
    assert_string_equal(vox_msg_header(m, "Socket-Mode"), "static");
    assert_string_equal(vox_msg_header(m, "Control"), "full");
    vox_msg_free(m);
    peer_sends(&ob.c, "myevents\n\n");
    peer_expect(&ob.c, "reply:+OK Events Enabled");
    uint64_t t0 = tu_now_ms();
    peer_sends(&ob.c, PLAY1S);
    peer_expect(&ob.c, "reply:+OK");
    assert_true(tu_now_ms() - t0 >= (uint64_t)(1000.0 / SPEED * 0.8));
    peer_expect(&ob.c, "event:CHANNEL_EXECUTE:playback");
    peer_expect(&ob.c, "event:CHANNEL_EXECUTE_COMPLETE:playback");
    peer_sends(&ob.c, "exit\n\n");
    peer_expect(&ob.c, "reply:+OK bye");
    vox_sim_result res = call_ends(&ob);
    assert_string_equal(res.cause, "NORMAL_CLEARING");
    assert_non_null(strstr(res.steps, "socket closed\nhangup NORMAL_CLEARING\n"));
    outb_stop(&ob);
}

/* The order around hangup with linger, then a sendmsg after the hangup:
 * +OK, and nothing runs. */
static void test_hangup_order_and_late_sendmsg(void **state)
{
    (void)state;
    static const char *const order[] = {
        "reply:+OK", /* execute hangup */
        "event:CHANNEL_EXECUTE:hangup",
        "event:CHANNEL_HANGUP",
        "event:CHANNEL_EXECUTE_COMPLETE:hangup",
        "event:CHANNEL_UNPARK",
        "event:CHANNEL_EXECUTE_COMPLETE:socket",
        "event:CHANNEL_STATE",
        "event:CHANNEL_STATE",
        "event:CHANNEL_HANGUP_COMPLETE",
        "notice:linger",
    };
    outb ob;
    const char *ev[] = {"body_var=1", NULL};
    vox_msg_free(call_up(&ob, (vox_sim_call){.expect_cause = "NORMAL_CLEARING", .expect_vars = ev},
                         "connect\n\n"));
    peer_sends(&ob.c, "myevents\n\nlinger\n\n");
    peer_expect(&ob.c, "reply:+OK Events Enabled");
    peer_expect(&ob.c, "reply:+OK will linger");
    /* a long argument travels as a text/plain body */
    peer_sends(&ob.c, "sendmsg\ncall-command: execute\nexecute-app-name: set\n"
                      "content-type: text/plain\ncontent-length: 10\n\nbody_var=1");
    peer_expect(&ob.c, "reply:+OK");
    peer_expect(&ob.c, "event:CHANNEL_PARK");
    peer_expect(&ob.c, "event:CHANNEL_EXECUTE:set");
    peer_expect(&ob.c, "event:CHANNEL_EXECUTE_COMPLETE:set");
    peer_sends(&ob.c, "sendmsg\ncall-command: execute\nexecute-app-name: hangup\n\n");
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        peer_expect(&ob.c, order[i]);
    peer_sends(&ob.c, PLAY1S);
    peer_expect(&ob.c, "reply:+OK");
    peer_sends(&ob.c, "exit\n\n");
    peer_expect(&ob.c, "reply:+OK bye");
    peer_expect(&ob.c, "notice:disconnect");
    assert_null(strstr(call_ends(&ob).steps, "playback"));
    outb_stop(&ob);
}

/* `resume`: the socket application ends and the extension goes on (the
 * sim's scripted calls have nothing after it: NORMAL_CLEARING). */
static void test_resume(void **state)
{
    (void)state;
    outb ob;
    vox_msg_free(call_up(&ob, (vox_sim_call){.expect_cause = "NORMAL_CLEARING"}, "connect\n\n"));
    peer_sends(&ob.c, "resume\n\nexit\n\n");
    vox_sim_result res = call_ends(&ob);
    assert_non_null(strstr(res.steps, "socket resume\nend of extension\nhangup NORMAL_CLEARING\n"));
    outb_stop(&ob);
}

/* An exit before anything ran hangs the channel up (NORMAL_CLEARING). */
static void test_exit_early(void **state)
{
    (void)state;
    outb ob;
    vox_msg *m = call_up(&ob, (vox_sim_call){.no_answer = 1, .expect_cause = "NORMAL_CLEARING"},
                         "connect\n\nmyevents\n\nlinger\n\n");
    assert_string_equal(vox_event_get(vox_msg_event(m), "Answer-State"), "ringing");
    vox_msg_free(m);
    peer_expect(&ob.c, "reply:+OK Events Enabled");
    peer_expect(&ob.c, "reply:+OK will linger");
    peer_expect(&ob.c, "event:CHANNEL_PARK");
    /* early media first: CHANNEL_PROGRESS_MEDIA inside pre_answer */
    peer_sends(&ob.c, "sendmsg\ncall-command: execute\nexecute-app-name: pre_answer\n\n");
    peer_expect(&ob.c, "reply:+OK");
    peer_expect(&ob.c, "event:CHANNEL_EXECUTE:pre_answer");
    frame f;
    assert_int_equal(peer_frame(&ob.c, &f), 1);
    assert_string_equal(vox_event_name(vox_msg_event(f.m)), "CHANNEL_PROGRESS_MEDIA");
    assert_string_equal(vox_event_get(vox_msg_event(f.m), "Answer-State"), "early");
    frame_free(&f);
    peer_expect(&ob.c, "event:CHANNEL_EXECUTE_COMPLETE:pre_answer");
    peer_sends(&ob.c, "exit\n\n");
    peer_expect(&ob.c, "reply:+OK bye");
    assert_null(strstr(call_ends(&ob).steps, "\nanswer\n"));
    outb_stop(&ob);
}

/* ------------------------------------------------------------ uuid_bridge */

/* Two parked loopback calls joined with uuid_bridge, DTMF sent across,
 * then one killed: the other follows. */
static void test_api_uuid_bridge(void **state)
{
    (void)state;
    vox_sim_opts o = sim_opts(SPEED);
    vox_sim *s = sim_up(&o); /* no socket target: loopback extensions answer and park */
    vox_client *c;
    assert_int_equal(vox_connect(&c, &(vox_client_opts){.port = vox_sim_port(s),
                                                        .events = "CHANNEL_BRIDGE DTMF "
                                                                  "CHANNEL_HANGUP_COMPLETE"}),
                     0);
    char *x = api_body(c, "originate loopback/9105 &park");
    char *y = api_body(c, "originate loopback/9105 &park");
    assert_int_equal(strncmp(x, "+OK ", 4), 0);
    assert_int_equal(strncmp(y, "+OK ", 4), 0);
    x[40] = y[40] = '\0';
    char cmd[256], want[128];
    snprintf(cmd, sizeof cmd, "uuid_bridge %s %s", x + 4, y + 4);
    snprintf(want, sizeof want, "+OK %s\n", x + 4);
    api_is(c, cmd, want);
    vox_msg *m = NULL;
    assert_int_equal(vox_next_event(c, SIM_WAIT_MS, &m), 0);
    const vox_event *e = vox_msg_event(m);
    assert_string_equal(vox_event_name(e), "CHANNEL_BRIDGE");
    assert_string_equal(vox_event_get(e, "Bridge-A-Unique-ID"), x + 4);
    assert_string_equal(vox_event_get(e, "Bridge-B-Unique-ID"), y + 4);
    assert_string_equal(vox_event_get(e, "Other-Leg-Unique-ID"), y + 4);
    vox_msg_free(m);
    /* one call of the bridged pair (with y as its b-leg), and the two twins */
    char *calls = api_body(c, "show calls");
    const char *head = "uuid,direction,created,created_epoch,name,state,cid_name,cid_num,"
                       "ip_addr,dest,presence_id,";
    assert_int_equal(strncmp(calls, head, strlen(head)), 0);
    snprintf(want, sizeof want, ",%s,outbound,", y + 4);
    assert_non_null(strstr(calls, want));
    assert_non_null(strstr(calls, "\n\n3 total.\n"));
    free(calls);
    snprintf(cmd, sizeof cmd, "uuid_send_dtmf %s 7", x + 4);
    api_is(c, cmd, "+OK Success\n");
    assert_int_equal(vox_next_event(c, SIM_WAIT_MS, &m), 0);
    e = vox_msg_event(m);
    assert_string_equal(vox_event_name(e), "DTMF");
    assert_string_equal(vox_event_get(e, "Unique-ID"), y + 4); /* the far end hears it */
    assert_string_equal(vox_event_get(e, "DTMF-Digit"), "7");
    vox_msg_free(m);
    snprintf(cmd, sizeof cmd, "uuid_bridge %s %s", x + 4, x + 4);
    api_is(c, cmd, "-ERR Invalid uuid\n");
    snprintf(cmd, sizeof cmd, "uuid_kill %s", x + 4);
    api_is(c, cmd, "+OK\n");
    int gone = 0;
    while (gone < 4 && vox_next_event(c, SIM_WAIT_MS, &m) == 0) {
        gone += !strcmp(vox_event_name(vox_msg_event(m)), "CHANNEL_HANGUP_COMPLETE");
        vox_msg_free(m);
    }
    assert_int_equal(gone, 4); /* both a-legs and their loopback twins */
    api_is(c, "show channels", "\n0 total.\n");
    /* uuid_park, then uuid_transfer to the extension that refuses */
    char *z = api_body(c, "originate loopback/9105 &echo");
    z[40] = '\0';
    snprintf(cmd, sizeof cmd, "uuid_park %s", z + 4);
    api_is(c, cmd, "+OK\n");
    snprintf(cmd, sizeof cmd, "uuid_transfer %s 9999", z + 4);
    api_is(c, cmd, "+OK\n");
    for (int k = 0; k < 2; k++) { /* z and its loopback twin, in either order */
        assert_int_equal(vox_next_event(c, SIM_WAIT_MS, &m), 0);
        e = vox_msg_event(m);
        assert_string_equal(vox_event_name(e), "CHANNEL_HANGUP_COMPLETE");
        assert_string_equal(vox_event_get(e, "Hangup-Cause"), "UNALLOCATED_NUMBER");
        if (!strcmp(vox_event_get(e, "Unique-ID"), z + 4))
            assert_string_equal(vox_event_get(e, "variable_last_app"), "hangup");
        vox_msg_free(m);
    }
    free(z);
    free(x);
    free(y);
    vox_close(c);
    vox_sim_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_socket),
        cmocka_unit_test(test_hangup_order_and_late_sendmsg),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_exit_early),
        cmocka_unit_test(test_api_uuid_bridge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
