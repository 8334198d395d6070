/* SPDX-License-Identifier: MIT */
/* The supervisor's health decisions (helpers/health.h) on a simulated
 * clock and device: no flapping (a busy tunnel, an idle one answering its
 * probes, a slow peer, an idle tunnel with nothing to probe), a failure
 * detected within the timeout, the ladder in place / rebuild / failover,
 * failback only after an answered trial, no counting while the host has
 * no uplink, failed steps, HealthCheckTimeout=infinity; and the record,
 * strictly parsed. */
#include <errno.h>

#include "health.h"
#include "test.h"
#include "util.h"

#define T 10000 /* HealthCheckTimeout=10s, as the root tiers use it */
#define STEP 15000 /* what a bring-up or a step gets with it: at least 15 s */

static struct health h;
static uint64_t now_ms, now_unix;
static struct health_obs dev; /* the simulated device's counters */
static unsigned probes, recover_verdicts;

static void start(unsigned n_configs, unsigned failover_after, uint64_t failback_ms, uint64_t timeout_ms) {
	struct health_settings set = { .timeout_ms = timeout_ms, .failover_after = failover_after,
				       .failback_ms = failback_ms, .n_configs = n_configs };

	health_done(&h);
	now_ms = 1000;
	now_unix = 1700000000;
	dev = (struct health_obs){ 0 };
	probes = recover_verdicts = 0;
	CHECK(health_init(&h, &set, 0, "/etc/vpn-confinement/a.conf", now_ms, now_unix) == 0, "init");
}

static void advance(uint64_t ms) {
	now_ms += ms;
	now_unix = 1700000000 + (now_ms - 1000) / 1000;
}

/* The peer answers: a handshake or bytes from it. */
static void peer_answers(void) {
	dev.rx += 92;
	if (!dev.handshake)
		dev.handshake = now_unix;
}

/* One look; probes are sent when asked for (answered when answer is set,
 * after delay_ms), RECOVER verdicts counted. */
static enum health_verdict look(void) {
	enum health_verdict v = health_observe(&h, &dev, now_ms, now_unix);

	if (v == HEALTH_PROBE) {
		health_probed(&h, now_ms);
		dev.tx += 60;
		probes++;
	}
	if (v == HEALTH_RECOVER)
		recover_verdicts++;
	return v;
}

/* Run for ms with a look every tick; answer each probe after delay_ms
 * (never when delay_ms is 0). Returns the first RECOVER's time since the
 * start, or 0. */
static uint64_t run(uint64_t ms, uint64_t delay_ms, bool traffic) {
	uint64_t tick = health_tick_ms(&h.set), end = now_ms + ms, first_recover = 0, pending = 0;
	uint64_t begin = now_ms;

	while (now_ms < end) {
		enum health_verdict v;

		advance(tick);
		if (traffic) {
			dev.tx += 1000;
			if (delay_ms)
				dev.rx += 1000;
		}
		if (pending && now_ms >= pending) {
			peer_answers();
			pending = 0;
		}
		v = look();
		if (v == HEALTH_PROBE && delay_ms && !pending)
			pending = now_ms + delay_ms;
		if (v == HEALTH_RECOVER && !first_recover)
			first_recover = now_ms - begin;
	}
	return first_recover;
}

static void test_no_flapping(void) {
	/* Busy and answering: no probe needed, never a recovery. */
	start(2, 2, 300000, T);
	peer_answers();
	look();
	CHECK(h.rec.state == HEALTH_ONLINE, "busy: online after the first answer");
	CHECK(run(20 * T, 1, true) == 0 && recover_verdicts == 0, "busy: no recovery in 20 timeouts");
	CHECK(probes <= 1, "busy: no probes while traffic is answered (%u)", probes);

	/* Idle, the probes answered at once. */
	start(2, 2, 300000, T);
	CHECK(run(20 * T, 100, false) == 0 && recover_verdicts == 0, "idle: no recovery in 20 timeouts");
	CHECK(h.rec.state == HEALTH_ONLINE || h.rec.state == HEALTH_CHECKING, "idle: online or checking (%s)",
	      health_state_str(h.rec.state));
	CHECK(probes >= 20 * T / (T / 3) / 2 && probes <= 20 * T / (T / 4) + 2,
	      "idle: a probe every third to quarter of the timeout (%u in 20 timeouts)", probes);

	/* A slow peer: each answer comes late, 4.5 s after the probe; one late
	 * handshake is no failure. */
	start(2, 2, 300000, T);
	CHECK(run(30 * T, 4500, false) == 0 && recover_verdicts == 0, "slow peer: no recovery in 30 timeouts");
	CHECK(h.rec.recoveries == 0 && h.rec.failovers == 0, "slow peer: nothing counted");

	/* Idle with nothing to probe: silence is no failure. */
	start(1, 2, 300000, T);
	peer_answers();
	look();
	for (int i = 0; i < 200; i++) {
		advance(health_tick_ms(&h.set));
		if (health_observe(&h, &dev, now_ms, now_unix) == HEALTH_RECOVER)
			recover_verdicts++;
	}
	CHECK(recover_verdicts == 0, "nothing to probe, idle: never a recovery");
	CHECK(h.rec.state == HEALTH_CHECKING, "nothing to probe, idle: checking");

	/* Counters that go back (a device replaced by someone else) are not
	 * a sign of life, nor an unanswered send. */
	start(1, 2, 300000, T);
	dev = (struct health_obs){ .handshake = now_unix, .rx = 5000, .tx = 5000 };
	look();
	dev = (struct health_obs){ .handshake = now_unix, .rx = 10, .tx = 10 };
	advance(1000);
	look();
	CHECK(h.unanswered_ms == 0, "counters back: nothing unanswered");
	dev.rx += 10;
	advance(1000);
	look();
	CHECK(h.sign_ms == now_ms, "counters back: then counted from there");
}

static void test_detection(void) {
	uint64_t t;

	/* Busy, then the peer goes silent: detected within the timeout (one
	 * look late at most), not before. */
	start(2, 2, 300000, T);
	run(3 * T, 1, true);
	t = run(3 * T, 0, true);
	CHECK(t >= T && t <= T + health_tick_ms(&h.set), "busy then silent: recovery after %llu ms (timeout %d)",
	      (unsigned long long)t, T);

	/* Idle, then silent: the probe is unanswered; a timeout after the
	 * last sign of life, which was at most a third of it before. */
	start(2, 2, 300000, T);
	run(3 * T, 100, false);
	{
		uint64_t last = h.sign_ms, begin = now_ms;
		t = run(3 * T, 0, false);
		CHECK(t && begin + t - last >= T && begin + t - last <= T + health_tick_ms(&h.set),
		      "idle then silent: recovery %llu ms after the last sign of life",
		      (unsigned long long)(begin + t - last));
		CHECK(t <= T + health_tick_ms(&h.set), "idle then silent: within %llu ms of the silence",
		      (unsigned long long)t);
	}

	/* Never answered from the start: probed at once, recovery after the
	 * timeout, at least 15 s (three handshake attempts). */
	start(1, 2, 300000, T);
	t = run(3 * T, 0, false);
	CHECK(probes >= 1, "connecting: probed");
	CHECK(t >= STEP && t <= STEP + health_tick_ms(&h.set), "connecting, never answered: recovery after %llu ms",
	      (unsigned long long)t);
	/* With a longer timeout, the timeout. */
	start(1, 2, 300000, 30000);
	t = run(90000, 0, false);
	CHECK(t >= 30000 && t <= 30000 + health_tick_ms(&h.set), "timeout 30 s, never answered: recovery after %llu ms",
	      (unsigned long long)t);
}

/* Act on a RECOVER verdict: a plan, taken with result ok. A step that
 * worked gives a fresh session (or device): its counters start at 0, as
 * wg setconf's replace_peers and a new device make them. */
static struct health_plan act(bool ok, bool up, const char *path) {
	struct health_plan p = health_plan(&h);

	CHECK(health_acted(&h, &p, ok, up, path, now_ms, now_unix) == 0, "acted");
	if (ok || !up)
		dev = (struct health_obs){ 0 };
	return p;
}

static const char *const paths[] = { "/etc/vpn-confinement/a.conf", "/etc/vpn-confinement/b.conf",
				     "/etc/vpn-confinement/c.conf" };

static void test_ladder(void) {
	struct health_plan p;

	/* FailoverAfter=2: in place, rebuild, failover; each step gets the
	 * timeout. */
	start(2, 2, 300000, T);
	run(2 * T, 1, true);
	CHECK(run(3 * T, 0, true) != 0, "dead: recover");
	p = act(true, true, paths[0]);
	CHECK(p.action == HEALTH_ACT_IN_PLACE && p.reason == HEALTH_REASON_SILENT && p.config == 0,
	      "1st step: in place, no sign of life (%s, %s)", health_action_str(p.action), health_reason_str(p.reason));
	CHECK(h.rec.state == HEALTH_RECOVERING && h.rec.recoveries == 1, "recovering, 1 recovery");
	recover_verdicts = 0;
	CHECK(run(STEP - health_tick_ms(&h.set), 0, true) == 0, "the step gets its timeout (at least 15 s)");
	CHECK(run(2 * health_tick_ms(&h.set), 0, true) != 0, "then the next step");
	p = act(true, true, paths[0]);
	CHECK(p.action == HEALTH_ACT_REBUILD && h.rec.failed == 1, "2nd step: rebuild (failed %u)", h.rec.failed);
	CHECK(run(STEP + health_tick_ms(&h.set), 0, true) != 0, "rebuild did not help");
	p = act(true, true, paths[1]);
	CHECK(p.action == HEALTH_ACT_FAILOVER && p.reason == HEALTH_REASON_FAILED_RECOVERIES && p.config == 1,
	      "3rd step: failover to config 1");
	CHECK(h.rec.config == 1 && streq(h.rec.config_path, paths[1]) && h.rec.switch_from == 0 && h.rec.failed == 0,
	      "on config 1, from 0, failed reset");
	CHECK(h.rec.recoveries == 3 && h.rec.failovers == 1, "3 recoveries, 1 failover");
	/* The second provider answers. */
	CHECK(run(T, 100, true) == 0 && h.rec.state == HEALTH_ONLINE, "config 1 online");

	/* FailoverAfter=1: in place, then the next config; the change of
	 * config is the first recovery on the new one, so a silent config 1
	 * goes on to config 2 at once; after the last, the first again. */
	start(3, 1, 300000, T);
	run(3 * T, 0, false);
	p = act(true, true, paths[0]);
	CHECK(p.action == HEALTH_ACT_IN_PLACE, "FailoverAfter=1: in place first");
	run(STEP + health_tick_ms(&h.set), 0, false);
	p = act(true, true, paths[1]);
	CHECK(p.action == HEALTH_ACT_FAILOVER && p.config == 1, "FailoverAfter=1: then config 1");
	run(STEP + health_tick_ms(&h.set), 0, false);
	p = act(true, true, paths[2]);
	CHECK(p.action == HEALTH_ACT_FAILOVER && p.config == 2, "then config 2");
	run(STEP + health_tick_ms(&h.set), 0, false);
	p = act(true, true, paths[0]);
	CHECK(p.action == HEALTH_ACT_FAILOVER && p.config == 0, "after the last, the first again");
	CHECK(h.rec.failovers == 3 && h.rec.recoveries == 4, "4 recoveries, 3 failovers");

	/* One config: in place and rebuild in turn, never a failover. */
	start(1, 1, 300000, T);
	run(3 * T, 0, false);
	for (int i = 0; i < 6; i++) {
		p = act(true, true, paths[0]);
		CHECK(p.action == (i % 2 ? HEALTH_ACT_REBUILD : HEALTH_ACT_IN_PLACE) && p.config == 0,
		      "one config, step %d: %s", i, health_action_str(p.action));
		run(STEP + health_tick_ms(&h.set), 0, false);
	}
	CHECK(h.rec.failovers == 0, "one config: no failover");
}

static void test_failed_steps(void) {
	struct health_plan p;
	uint64_t t;

	/* The step fails and leaves no tunnel: down, retried after half the
	 * timeout (at least 5 s), as a rebuild; then the failover. */
	start(2, 2, 300000, T);
	run(3 * T, 0, true);
	p = act(false, false, paths[0]);
	CHECK(h.rec.state == HEALTH_DOWN && h.rec.failed == 1, "step failed: down, failed 1");
	t = 0;
	for (int i = 0; i < 20 && !t; i++) {
		advance(1000);
		if (health_no_look(&h, now_ms, now_unix) == HEALTH_RECOVER)
			t = i + 1;
	}
	CHECK(t == 5, "down: the next step after 5 s (%llu)", (unsigned long long)t);
	p = act(false, false, paths[0]);
	CHECK(p.action == HEALTH_ACT_REBUILD && p.reason == HEALTH_REASON_STEP_FAILED, "down: rebuild, step-failed");
	advance(5000);
	CHECK(health_no_look(&h, now_ms, now_unix) == HEALTH_RECOVER, "and again");
	p = act(false, false, paths[1]);
	CHECK(p.action == HEALTH_ACT_FAILOVER && p.config == 1, "2 failed: failover");
	/* A change of config that failed leaves it on the new config. */
	CHECK(h.rec.config == 1 && h.rec.state == HEALTH_DOWN && h.rec.failed == 1, "failed failover: on config 1, down");
	advance(5000);
	health_no_look(&h, now_ms, now_unix);
	p = act(true, true, paths[1]);
	CHECK(p.action == HEALTH_ACT_REBUILD && p.config == 1, "then a rebuild of config 1");
	peer_answers();
	advance(1000);
	look();
	CHECK(h.rec.state == HEALTH_ONLINE && h.rec.failed == 0, "online, failed reset");

	/* A step that failed with the tunnel still up: no tight loop. */
	start(1, 2, 300000, T);
	run(3 * T, 0, true);
	act(false, true, paths[0]);
	recover_verdicts = 0;
	run(4000, 0, true);
	CHECK(recover_verdicts == 0, "failed step, still up: nothing for 4 s");
	CHECK(run(2000, 0, true) != 0, "then the next step");
}

static void test_no_uplink(void) {
	struct health_plan p;

	start(2, 1, 300000, T);
	run(2 * T, 1, true);
	CHECK(run(3 * T, 0, true) != 0, "silent");
	/* The supervisor finds no route: wait. */
	health_no_uplink(&h, now_ms, now_unix);
	CHECK(h.rec.state == HEALTH_NO_UPLINK, "no-uplink");
	for (int i = 0; i < 100; i++) {
		advance(1000);
		if (look() == HEALTH_RECOVER)
			health_no_uplink(&h, now_ms, now_unix);
	}
	CHECK(h.rec.recoveries == 0 && h.rec.failovers == 0 && h.rec.failed == 0,
	      "100 s without uplink: nothing counted, no failover");
	/* The uplink is back: in place, on the same config. */
	p = act(true, true, paths[0]);
	CHECK(p.action == HEALTH_ACT_IN_PLACE && p.config == 0, "uplink back: in place");
	/* Gone again during the step's timeout: that step is not failed. */
	CHECK(run(STEP + health_tick_ms(&h.set), 0, true) != 0, "silent again");
	health_no_uplink(&h, now_ms, now_unix);
	p = act(true, true, paths[0]);
	CHECK(p.action == HEALTH_ACT_IN_PLACE && h.rec.failed == 0, "still in place, failed %u", h.rec.failed);
	/* And a tunnel that comes back by itself meanwhile is online. */
	health_no_uplink(&h, now_ms, now_unix);
	peer_answers();
	advance(1000);
	look();
	CHECK(h.rec.state == HEALTH_ONLINE, "no-uplink, then a sign of life: online");
}

static void test_failback(void) {
	struct health_plan p;
	uint64_t fb = 60000, t;

	start(2, 1, fb, T);
	run(2 * T, 1, true);
	run(3 * T, 0, true);
	act(true, true, paths[0]);
	run(STEP + health_tick_ms(&h.set), 0, true);
	p = act(true, true, paths[1]);
	CHECK(p.action == HEALTH_ACT_FAILOVER && h.rec.config == 1, "on config 1");
	/* Online there; the trial is due FailbackAfter after the switch. */
	t = 0;
	for (uint64_t ms = 0; ms < 2 * fb && !t; ms += 1000) {
		enum health_verdict v;
		advance(1000);
		dev.tx += 100;
		dev.rx += 100;
		v = health_observe(&h, &dev, now_ms, now_unix);
		if (v == HEALTH_TRIAL)
			t = ms + 1000;
	}
	CHECK(t >= fb && t <= fb + 1000, "trial due after FailbackAfter (%llu ms)", (unsigned long long)t);
	health_trial_started(&h, now_ms, now_unix);
	advance(1000);
	dev.rx += 100;
	CHECK(health_observe(&h, &dev, now_ms, now_unix) != HEALTH_TRIAL, "one trial at a time");
	CHECK(!health_trial_expired(&h, now_ms), "trial not expired after 1 s");
	advance(15000);
	CHECK(health_trial_expired(&h, now_ms), "trial expired after 15 s (at least)");
	health_trial_ended(&h, false, now_ms);
	CHECK(h.rec.config == 1 && h.rec.failbacks == 0 && !h.rec.trial_answered,
	      "unanswered: stays on config 1, no failback");
	advance(fb - 2000);
	dev.rx += 100;
	CHECK(health_observe(&h, &dev, now_ms, now_unix) != HEALTH_TRIAL, "no new trial before another FailbackAfter");
	advance(3000);
	dev.rx += 100;
	CHECK(health_observe(&h, &dev, now_ms, now_unix) == HEALTH_TRIAL, "then another trial");
	health_trial_started(&h, now_ms, now_unix);
	health_trial_ended(&h, true, now_ms);
	p = health_failback_plan(&h);
	CHECK(health_acted(&h, &p, true, true, paths[0], now_ms, now_unix) == 0, "failback acted");
	CHECK(h.rec.config == 0 && h.rec.switch_from == 1 && h.rec.failbacks == 1 && h.rec.trial_answered &&
		      h.rec.last_action == HEALTH_ACT_FAILBACK && h.rec.last_reason == HEALTH_REASON_FAILBACK,
	      "answered: back on config 0, 1 failback");
	CHECK(h.rec.recoveries == 2 && h.rec.failovers == 1, "a failback is no recovery");
	/* On the first config: no trials. */
	run(5 * fb, 1, true);
	CHECK(h.trial_ms == 0 && h.rec.state == HEALTH_ONLINE, "config 0: online, no trial");

	/* FailbackAfter=infinity (0): never. */
	start(2, 1, 0, T);
	run(3 * T, 0, true);
	act(true, true, paths[0]);
	run(STEP + health_tick_ms(&h.set), 0, true);
	act(true, true, paths[1]);
	for (int i = 0; i < 1000; i++) {
		advance(5000);
		dev.rx += 10;
		dev.tx += 10;
		CHECK(health_observe(&h, &dev, now_ms, now_unix) != HEALTH_TRIAL, "FailbackAfter=infinity: no trial");
	}
}

static void test_infinity(void) {
	start(2, 1, 60000, 0);
	/* Connecting: probed (a first handshake for readiness), every 5 s. */
	CHECK(health_observe(&h, &dev, now_ms, now_unix) == HEALTH_PROBE, "infinity, connecting: a probe");
	health_probed(&h, now_ms);
	advance(4000);
	CHECK(health_observe(&h, &dev, now_ms, now_unix) == HEALTH_WAIT, "infinity, connecting: not before 5 s");
	advance(1000);
	CHECK(health_observe(&h, &dev, now_ms, now_unix) == HEALTH_PROBE, "infinity, connecting: again after 5 s");
	health_probed(&h, now_ms);
	dev.rx += 10;
	advance(1000);
	health_observe(&h, &dev, now_ms, now_unix);
	CHECK(h.rec.state == HEALTH_ONLINE, "infinity: online at the first answer");
	for (int i = 0; i < 1000; i++) {
		enum health_verdict v;
		advance(health_tick_ms(&h.set));
		dev.tx += 100;
		v = health_observe(&h, &dev, now_ms, now_unix);
		CHECK(v == HEALTH_WAIT, "HealthCheckTimeout=infinity: then only waits (%d at %d)", v, i);
		if (v != HEALTH_WAIT)
			break;
	}
	CHECK(health_tick_ms(&h.set) == 5000, "infinity: a look every 5 s");
	dev.rx += 1;
	advance(5000);
	health_observe(&h, &dev, now_ms, now_unix);
	CHECK(h.rec.state == HEALTH_ONLINE && h.rec.recoveries == 0, "infinity: still tells online, no recovery");
}

static void test_ticks(void) {
	struct health_settings s = { .timeout_ms = 10000 };
	CHECK(health_tick_ms(&s) == 2000, "10 s: a look every 2 s");
	s.timeout_ms = 60000;
	CHECK(health_tick_ms(&s) == 5000, "60 s: every 5 s");
}

static void test_record(void) {
	struct health_record r = { 0 }, back = { 0 };
	_cleanup_free_ char *text = NULL;

	r = (struct health_record){ .state = HEALTH_RECOVERING, .since = 1700000100, .config = 1, .n_configs = 2,
				    .config_path = strdup("/etc/vpn-confinement/b.conf"), .timeout = 10,
				    .started = 1700000000, .first_handshake = 1700000001, .last_handshake = 1700000050,
				    .last_sign = 1700000090, .recoveries = 3, .failovers = 1, .failbacks = 2, .failed = 1,
				    .last_recovery = 1700000100, .last_action = HEALTH_ACT_FAILOVER,
				    .last_reason = HEALTH_REASON_FAILED_RECOVERIES, .last_switch = 1700000100,
				    .switch_from = 0, .last_trial = 1700000080, .trial_answered = true };
	CHECK(health_record_format(&r, &text) == 0, "format");
	CHECK(text && health_record_parse(text, &back) == 0, "parse back");
	CHECK(back.state == r.state && back.config == 1 && back.n_configs == 2 && back.config_path &&
		      streq(back.config_path, r.config_path) && back.timeout == 10 && back.recoveries == 3 &&
		      back.failovers == 1 && back.failbacks == 2 && back.failed == 1 &&
		      back.last_action == HEALTH_ACT_FAILOVER && back.last_reason == HEALTH_REASON_FAILED_RECOVERIES &&
		      back.last_trial == r.last_trial && back.trial_answered && back.first_handshake == r.first_handshake,
	      "round trip");
	health_record_clear(&back);

	/* Each of these refuses the whole record. */
	static const struct {
		const char *from, *to;
	} bad[] = {
		{ "state=recovering", "state=RECOVERING" },
		{ "state=recovering", "state=" },
		{ "config=1", "config=2" },	/* not below configs */
		{ "config=1", "config=-1" },
		{ "configs=2", "configs=0" },
		{ "configs=2", "configs=65" },
		{ "switch_from=0", "switch_from=2" },
		{ "config_path=/etc/vpn-confinement/b.conf", "config_path=etc/b.conf" },
		{ "config_path=/etc/vpn-confinement/b.conf", "config_path=/etc/b c.conf" },
		{ "config_path=/etc/vpn-confinement/b.conf", "config_path=/etc/b\"c.conf" },
		{ "config_path=/etc/vpn-confinement/b.conf", "config_path=" },
		{ "recoveries=3", "recoveries=3x" },
		{ "recoveries=3", "recoveries=+3" },
		{ "recoveries=3", "recoveries=99999999999999999999" },
		{ "failed=1", "failed=1000001" },
		{ "last_action=failover", "last_action=reboot" },
		{ "last_reason=failed-recoveries", "last_reason=because" },
		{ "trial_answered=yes", "trial_answered=1" },
		{ "timeout=10", "timeout=10s" },
		{ "timeout=10\n", "timeout=10\ntimeout=10\n" },	      /* twice */
		{ "failbacks=2\n", "" },			      /* missing */
		{ "failbacks=2\n", "failbacks=2\nextra=1\n" },	      /* unknown key */
		{ "failbacks=2\n", "failbacks=2\ngarbage\n" },	      /* no '=' */
		{ "failbacks=2\n", "failbacks=2\n\n" },		      /* an empty line */
		{ "state=recovering\n", "state=recovering\r\n" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_free_ char *t = NULL;
		const char *at = strstr(text, bad[i].from);
		size_t n;

		CHECK(at != NULL, "case %zu: '%s' in the record", i, bad[i].from);
		if (!at)
			continue;
		n = (size_t)(at - text);
		CHECK(asprintf(&t, "%.*s%s%s", (int)n, text, bad[i].to, at + strlen(bad[i].from)) > 0, "asprintf");
		CHECK(health_record_parse(t, &back) == -EBADMSG && back.config_path == NULL && back.recoveries == 0,
		      "refused: '%s' -> '%s'", bad[i].from, bad[i].to);
		health_record_clear(&back);
	}
	health_record_clear(&r);
	CHECK(health_record_parse("", &back) == -EBADMSG, "empty refused");
	for (unsigned s = 0; s < _HEALTH_STATE_MAX; s++)
		CHECK(health_state_str(s) != NULL, "state %u has a word", s);
	CHECK(health_state_str(_HEALTH_STATE_MAX) == NULL, "out of range: NULL");
}

int main(void) {
	test_no_flapping();
	test_detection();
	test_ladder();
	test_failed_steps();
	test_no_uplink();
	test_failback();
	test_infinity();
	test_ticks();
	test_record();
	health_done(&h);
	return test_done();
}
