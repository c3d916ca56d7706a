//! Skipping repeated days. Between a plan's moves the world often runs
//! day after day with nothing new: the same diurnal demand (a function of
//! the time of day only, to the bit), the same pods coming and going, the
//! same syncs. When the world's whole state at an instant equals its state
//! exactly one day earlier, taken relative to each instant, every later day
//! repeats it until something from outside arrives: the world jumps whole
//! days ahead and adds the last day's contributions once per day skipped.
//!
//! The comparison: every hour of simulated time (a mark, after everything
//! due by then has run), each stateful part of the world writes its state
//! as numbers ([`DayState::encode`]): floats by their bits, every instant
//! relative to now ([`relative`]: ahead by how much, or how long ago, or
//! "long ago" beyond the age at which no part of the world tells instants
//! apart), counts and flags as they are. Two marks a day apart with the same
//! numbers are the same state shifted by a day. [`World::day_words`] lists
//! every field of the world by name (adding a field does not compile until
//! it is placed), as do the site and the failures in force.
//!
//! What is not compared is added: the running sums (tallies, latency
//! histograms, the sites' overflow and HPA counts, events), history (the
//! timeline's rows, the cost meter's nodes gone) and peaks (a repeated day
//! leaves them as they are). Latency histograms spread what they hold into
//! their buckets at every mark, in a run that skips and in one that does
//! not, so that a day's histogram is a difference of buckets.
//!
//! A jump of `k` days then: copies the last day's timeline rows `k` times;
//! adds `k` times each sum's difference since the mark a day ago (floats
//! summed in another order than day by day: the figures differ in their
//! last bits from a run that does not skip); repeats the nodes gone in the
//! day; and moves every instant that is not "long ago" `k` days later
//! ([`DayState::shift`]), the clock, the next tick and the events due
//! within a day (their sequence numbers are kept: their order is). Debug
//! builds check that the state's numbers after the jump are those before.
//!
//! It jumps only as far as nothing from outside is due: the caller's next
//! input (a plan's agenda), the end of the run, the first event more than
//! a day ahead (a failure, a drill), and the end of the span over which the
//! demand is a function of the time of day only. It refuses a mark with a
//! failure in force, an open observation window, BGP work pending, a
//! failure's users still watched, or request-level serving (whose random
//! draws move every tick).

use std::collections::VecDeque;

use cutover_models::{SimDuration, SimTime};

use super::latency::LatencyHistogram;
use super::record::Tally;
use super::site::SiteStats;
use super::{Event, World};
use crate::engine::rng::StreamRng;
use crate::experiment::{Experiment, Fidelity};

/// A day: the period the world's demand repeats with.
pub(super) const DAY: SimDuration = SimDuration::from_secs(86_400);

/// Events due within this are compared; later ones bound the jump.
const NEAR: SimDuration = DAY;

/// How often the world marks its state, at most (an hour: a jump can
/// start at any hour).
const MARK_EVERY: SimDuration = SimDuration::from_secs(3_600);

const AHEAD: u64 = 1 << 63;
const WAS_LONG_AGO: u64 = u64::MAX;

/// Instant `t` relative to `now`: how far ahead, how long ago, or long
/// ago (at least `long_ago`: all alike).
fn relative(now: SimTime, long_ago: SimDuration, t: SimTime) -> u64 {
    if t > now {
        AHEAD | (t.as_nanos() - now.as_nanos()).min(AHEAD - 2)
    } else if now.saturating_since(t) < long_ago {
        now.as_nanos() - t.as_nanos()
    } else {
        WAS_LONG_AGO
    }
}

/// A state written as numbers at an instant, or the reason it cannot be
/// repeated.
pub(super) struct Words {
    now: SimTime,
    long_ago: SimDuration,
    words: Vec<u64>,
    refused: Option<&'static str>,
}

impl Words {
    fn new(now: SimTime, long_ago: SimDuration) -> Self {
        Words {
            now,
            long_ago,
            words: Vec::new(),
            refused: None,
        }
    }

    /// The instant the state is taken at.
    pub(super) fn now(&self) -> SimTime {
        self.now
    }

    /// How instants are written: relative to now.
    pub(super) fn relative(&self) -> impl Fn(SimTime) -> u64 {
        let (now, long_ago) = (self.now, self.long_ago);
        move |t| relative(now, long_ago, t)
    }

    /// The numbers so far, to extend.
    pub(super) fn words(&mut self) -> &mut Vec<u64> {
        &mut self.words
    }

    /// A number.
    pub(super) fn push(&mut self, x: u64) {
        self.words.push(x);
    }

    /// An instant, relative to now.
    pub(super) fn time(&mut self, t: SimTime) {
        self.words.push(relative(self.now, self.long_ago, t));
    }

    /// An instant if any, relative to now.
    pub(super) fn time_opt(&mut self, t: Option<SimTime>) {
        match t {
            Some(t) => self.time(t),
            None => self.words.push(WAS_LONG_AGO - 1),
        }
    }

    /// Flags.
    pub(super) fn flags(&mut self, flags: &[bool]) {
        self.words.extend(flags.iter().map(|&f| u64::from(f)));
    }

    /// Floats, by their bits.
    pub(super) fn floats(&mut self, xs: &[f64]) {
        self.words.extend(xs.iter().map(|x| x.to_bits()));
    }

    /// A random stream's position (its state, as its debug form gives it).
    pub(super) fn rng(&mut self, rng: &StreamRng) {
        let text = format!("{rng:?}");
        for chunk in text.as_bytes().chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.words.push(u64::from_le_bytes(word));
        }
    }

    /// The state cannot be repeated, for `why`.
    pub(super) fn refuse(&mut self, why: &'static str) {
        self.refused.get_or_insert(why);
    }
}

/// A jump: every instant not long ago at `now` moves `by` later.
pub(super) struct Shift {
    now: SimTime,
    long_ago: SimDuration,
    by: SimDuration,
}

impl Shift {
    /// Where instant `t` moves.
    pub(super) fn at(&self, t: SimTime) -> SimTime {
        if relative(self.now, self.long_ago, t) == WAS_LONG_AGO {
            t
        } else {
            t + self.by
        }
    }
}

/// A stateful part of the world.
pub(super) trait DayState {
    /// Writes what it carries from one instant to the next, each instant
    /// relative to now; refuses what cannot be repeated.
    fn encode(&self, w: &mut Words);
    /// Moves its instants as the world jumps whole days ahead.
    fn shift(&mut self, s: &Shift);
}

/// The running sums at a mark.
struct Sums {
    populations: Vec<Tally>,
    sites: Vec<Tally>,
    population_latency: Vec<LatencyHistogram>,
    site_latency: Vec<LatencyHistogram>,
    stats: Vec<SiteStats>,
    events: u64,
    ticks: u64,
    gone: Vec<usize>,
    /// Bytes each site's replication had sent, per data class.
    replicated: Vec<Vec<f64>>,
}

/// The state at a mark.
struct Mark {
    at: SimTime,
    words: Vec<u64>,
    sums: Sums,
}

/// The world's marks and what its jumps skipped.
pub(super) struct Days {
    /// Whether the world jumps (else it only marks: a run that does not
    /// skip spreads its histograms at the same instants as one that does).
    jumps: bool,
    /// Marks are taken this often; `None` when the run does not mark.
    every: Option<SimDuration>,
    /// Beyond this age no part of the world tells one instant from
    /// another (see [`long_ago`]).
    long_ago: SimDuration,
    next_mark: SimTime,
    marks: VecDeque<Mark>,
    /// Days skipped.
    pub(super) skipped: u64,
    /// Events the skipped days held.
    pub(super) events: u64,
}

impl Days {
    /// The marks of a run of `exp`: a fluid run of two days or more whose
    /// ticks and timeline rows fall on the marks and whose instants are all
    /// alike once they are [`long_ago`] (a day at most).
    pub(super) fn new(exp: &Experiment) -> Days {
        let long_ago = long_ago(exp);
        let every = mark_interval(exp).filter(|_| {
            exp.fidelity == Fidelity::Fluid && exp.duration >= DAY + DAY && long_ago <= DAY
        });
        Days {
            jumps: exp.skip_repeated_days,
            every,
            long_ago,
            next_mark: SimTime::ZERO + every.unwrap_or(SimDuration::ZERO),
            marks: VecDeque::new(),
            skipped: 0,
            events: 0,
        }
    }

    /// Whether the run marks its days (and reports the days skipped).
    pub(super) fn marking(&self) -> bool {
        self.every.is_some()
    }
}

/// The interval of the marks: an hour, or the timeline's interval if
/// longer, when it divides a day and is a whole number of ticks and of
/// timeline rows.
fn mark_interval(exp: &Experiment) -> Option<SimDuration> {
    let every = MARK_EVERY.max(exp.timeline_interval);
    let divides = |a: SimDuration, b: SimDuration| {
        a.as_nanos() > 0 && b.as_nanos().is_multiple_of(a.as_nanos())
    };
    (divides(every, DAY) && divides(exp.tick, every) && divides(exp.timeline_interval, every))
        .then_some(every)
}

/// The age beyond which no part of the world tells one instant from
/// another: past a pod's start-up to warm (scheduling and an uncached
/// pull included), the HPA's memory (see
/// [`cutover_models::hpa::Hpa::memory_span`]) and a metrics window,
/// rounded up to whole marks. Older instants are written alike and not
/// moved by a jump (a pod started weeks ago stays started then).
fn long_ago(exp: &Experiment) -> SimDuration {
    let dep = &exp.estate.deployment;
    let startup = dep
        .startup
        .timeline(SimTime::ZERO, false)
        .warm
        .saturating_since(SimTime::ZERO);
    let hpa = cutover_models::hpa::Hpa::new(dep.hpa.clone()).memory_span();
    let longest = startup
        .max(hpa)
        .max(dep.metric_resolution)
        .max(dep.hpa.sync_period);
    let step = MARK_EVERY.as_nanos();
    SimDuration::from_nanos((longest.as_nanos() / step + 1).saturating_mul(step))
}

impl World<'_> {
    /// Whether a mark is due before the next thing at `next` happens.
    pub(super) fn mark_due(&self, next: SimTime) -> bool {
        self.days.every.is_some() && next > self.days.next_mark
    }

    /// Marks the state now; if it is the state of a day ago and nothing
    /// from outside is due (the caller's next input is at `horizon`), jumps
    /// the days that repeat it.
    pub(super) fn mark(&mut self, horizon: SimTime) {
        let Some(every) = self.days.every else {
            return;
        };
        let at = self.days.next_mark;
        self.days.next_mark = at + every;
        if self.now != at {
            return;
        }
        for h in self
            .rec
            .population_latency
            .iter_mut()
            .chain(self.rec.site_latency.iter_mut())
        {
            h.settle();
        }
        let words = self.day_words();
        if words.refused.is_some() {
            self.days.marks.clear();
            return;
        }
        let day_ago = SimTime::from_nanos(at.as_nanos().saturating_sub(DAY.as_nanos()));
        while self.days.marks.front().is_some_and(|m| m.at < day_ago) {
            self.days.marks.pop_front();
        }
        let same = self
            .days
            .marks
            .front()
            .is_some_and(|m| m.at == day_ago && m.words == words.words);
        let days = if same && self.days.jumps {
            self.days_repeatable(horizon)
        } else {
            0
        };
        if days > 0 {
            if let Some(before) = self.days.marks.pop_front() {
                if self.jump(&before, days) {
                    debug_assert_eq!(
                        self.day_words().words,
                        words.words,
                        "a jump changed the state it repeats"
                    );
                    self.days.marks.clear();
                    self.days.next_mark = self.now + every;
                }
            }
        }
        let sums = self.sums();
        self.days.marks.push_back(Mark {
            at: self.now,
            words: words.words,
            sums,
        });
    }

    /// Whole days from now over which nothing from outside is due.
    fn days_repeatable(&mut self, horizon: SimTime) -> u64 {
        let day_ago = SimTime::from_nanos(self.now.as_nanos() - DAY.as_nanos());
        let Some(demand) = self.exp.demand.time_of_day_only_until(day_ago) else {
            return 0;
        };
        let near = self.now + NEAR;
        // An event beyond a day stays beyond a day after the jump.
        let far = self
            .queue
            .pending_in_order()
            .iter()
            .map(|&(at, _)| at)
            .find(|&at| at > near)
            .map_or(SimTime::MAX, |at| {
                SimTime::from_nanos(at.as_nanos().saturating_sub(NEAR.as_nanos() + 1))
            });
        let until = horizon.min(self.end).min(demand).min(far);
        until.saturating_since(self.now).as_nanos() / DAY.as_nanos()
    }

    /// The running sums now.
    fn sums(&self) -> Sums {
        Sums {
            populations: self.rec.populations.clone(),
            sites: self.rec.sites.clone(),
            population_latency: self.rec.population_latency.clone(),
            site_latency: self.rec.site_latency.clone(),
            stats: self.sites.iter().map(|s| s.stats.clone()).collect(),
            events: self.queue.processed() + self.folded_events + self.days.events,
            ticks: self.ticks,
            gone: self.meter.gone_counts(),
            replicated: self.recovery.replicated(),
        }
    }

    /// Jumps `days` days ahead, the day since `before` repeating; false
    /// (nothing changed) if the timeline cannot repeat its rows.
    fn jump(&mut self, before: &Mark, days: u64) -> bool {
        let rows = (DAY.as_nanos() / self.exp.timeline_interval.as_nanos()) as usize;
        if self.timeline.len() as u64 * self.exp.timeline_interval.as_nanos() != self.now.as_nanos()
        {
            return false;
        }
        self.tracker
            .write_open_row(&self.rec, &mut self.timeline, self.exp);
        if !self
            .timeline
            .repeat_last_rows(self.now, rows, days as usize)
        {
            return false;
        }
        let k = days as f64;
        let b = &before.sums;
        for (t, was) in self.rec.populations.iter_mut().zip(&b.populations) {
            repeat_tally(t, was, k);
        }
        for (t, was) in self.rec.sites.iter_mut().zip(&b.sites) {
            repeat_tally(t, was, k);
        }
        let hists = self.rec.population_latency.iter_mut();
        for (h, was) in hists.zip(&b.population_latency) {
            h.repeat_since(was, k);
        }
        for (h, was) in self.rec.site_latency.iter_mut().zip(&b.site_latency) {
            h.repeat_since(was, k);
        }
        for (site, was) in self.sites.iter_mut().zip(&b.stats) {
            repeat_stats(&mut site.stats, was, k, days);
        }
        let events = self.queue.processed() + self.folded_events + self.days.events;
        self.days.events += (events - b.events) * days;
        self.ticks += (self.ticks - b.ticks) * days;
        self.meter.repeat_since(&b.gone, DAY, days);
        self.recovery.repeat_replication_since(&b.replicated, k);
        let by = DAY.saturating_mul(days);
        self.shift_all(&Shift {
            now: self.now,
            long_ago: self.days.long_ago,
            by,
        });
        self.tracker.jumped(rows as u64 * days, self.rec.total());
        self.recovery.jumped(&self.rec);
        self.days.skipped += days;
        true
    }

    /// Moves every instant of the world's state as it jumps.
    fn shift_all(&mut self, s: &Shift) {
        let near = self.now + NEAR;
        self.queue.shift_times(near, &|t| s.at(t));
        self.network.shift(s);
        for site in &mut self.sites {
            site.shift(s);
        }
        for route in &mut self.routes {
            for h in &mut route.history[route.cursor..] {
                h.0 = s.at(h.0);
            }
        }
        self.meter.shift(s);
        self.recovery.shift(s);
        self.tracker.shift(s);
        self.active.shift(s);
        self.now = s.at(self.now);
        self.next_tick = s.at(self.next_tick);
    }

    /// The world's state now as numbers (see the module's documentation):
    /// every field of the world, by name.
    fn day_words(&self) -> Words {
        let mut w = Words::new(self.now, self.days.long_ago);
        let World {
            exp: _,
            network,
            queue,
            sites,
            routes,
            // Fixed at the start.
            nearest: _,
            ttfb_s: _,
            shares: _,
            rec,
            failures,
            failure_log,
            active,
            scraping,
            syncing,
            // Running sums: added.
            folded_events: _,
            fault_timers,
            reliability_rng,
            failure_timers,
            detect_rng,
            // History: its rows are repeated.
            timeline: _,
            tracker,
            now: _,
            next_tick,
            // A running sum, and the run's end (a bound on the jump).
            ticks: _,
            end: _,
            // Buffers every tick overwrites.
            scratch: _,
            l7,
            windows,
            meter,
            recovery,
            days: _,
        } = self;
        network.encode(&mut w);
        encode_queue(&queue.pending_in_order(), &mut w);
        w.push(sites.len() as u64);
        for site in sites {
            site.encode(&mut w);
        }
        for route in routes {
            let h = &route.history[route.cursor..];
            w.push(h.len() as u64);
            for &(t, site) in h {
                w.time(t);
                w.push(site.map_or(u64::MAX, |k| k as u64));
            }
        }
        encode_recorder(rec, &mut w);
        w.push(failures.len() as u64);
        w.push(failure_log.len() as u64);
        active.encode(&mut w);
        w.flags(scraping);
        w.flags(syncing);
        let timers: Vec<bool> = fault_timers.iter().map(Option::is_some).collect();
        w.flags(&timers);
        for rng in reliability_rng {
            w.rng(rng);
        }
        w.push(failure_timers.values().map(|t| t.len() as u64).sum());
        w.rng(detect_rng);
        tracker.encode(&mut w);
        w.time(*next_tick);
        w.push(l7.len() as u64);
        for split in l7 {
            w.push(split.from as u64);
            w.push(split.to as u64);
            w.floats(&[split.weight, split.extra_hop_s]);
        }
        if windows.iter().any(Option::is_some) {
            w.refuse("an observation window open");
        }
        meter.encode(&mut w);
        recovery.encode(&mut w);
        w
    }
}

/// The events due within a day, in the order they will run (the later
/// ones bound the jump instead).
fn encode_queue(pending: &[(SimTime, &Event)], w: &mut Words) {
    let near = w.now() + NEAR;
    for &(at, event) in pending.iter().take_while(|(at, _)| *at <= near) {
        w.time(at);
        let (kind, index) = match event {
            Event::Bgp(_) => {
                w.refuse("BGP work pending");
                (0, 0)
            }
            Event::Failure(i) => (1, *i),
            Event::FailureEnds(i) => (2, *i),
            Event::CrashLoop(i) => (3, *i),
            Event::Flap(i) => (4, *i),
            Event::NodeFault(k) => (5, *k),
            Event::Announce(k) => (6, *k),
            Event::PowerOff(i) => (7, *i),
            Event::Withdraw(k) => (8, *k),
            Event::Scrapes => (9, 0),
            Event::HpaSyncs => (10, 0),
            Event::AutoscalerScan(k) => (11, *k),
            Event::OverflowCheck => (12, 0),
        };
        w.push(kind << 32 | index as u64);
    }
}

/// What the recorder carries beyond its sums: the current timeline row's
/// latencies, the tick's failures, open windows and added delays.
fn encode_recorder(rec: &super::record::Recorder, w: &mut Words) {
    rec.interval_latency.state_words(w.words());
    w.floats(&rec.tick_failed);
    if !rec.watch.is_empty() {
        w.refuse("an observation window open");
    }
    w.floats(&rec.site_extra_s);
}

/// Adds `k` times what `t` gained since `was`.
fn repeat_tally(t: &mut Tally, was: &Tally, k: f64) {
    // Every field named, so a new one cannot be left unrepeated.
    let Tally {
        requests,
        served,
        blackholed,
        rejected,
        timed_out,
        reset,
        write_failed,
        slow,
    } = t;
    let rep = |x: &mut f64, b: f64| *x += (*x - b) * k;
    rep(requests, was.requests);
    rep(served, was.served);
    rep(blackholed, was.blackholed);
    rep(rejected, was.rejected);
    rep(timed_out, was.timed_out);
    rep(reset, was.reset);
    rep(write_failed, was.write_failed);
    rep(slow, was.slow);
}

/// Adds `days` times the sums and counts `s` gained since `was` (its
/// peaks are those of a repeated day already).
fn repeat_stats(s: &mut SiteStats, was: &SiteStats, k: f64, days: u64) {
    s.overflowed_out += (s.overflowed_out - was.overflowed_out) * k;
    s.overflowed_in += (s.overflowed_in - was.overflowed_in) * k;
    s.hpa_syncs += (s.hpa_syncs - was.hpa_syncs) * days;
    s.hpa_rescales += (s.hpa_rescales - was.hpa_rescales) * days;
}
