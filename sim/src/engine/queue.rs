//! The event queue: a priority queue of events keyed by simulated time and
//! a sequence number, with cancellable timers.
//!
//! Ordering rule: events run in order of their instant; events scheduled for
//! the same instant run in the order they were scheduled (first scheduled,
//! first run). The sequence number makes this total and independent of the
//! heap's internals, so a run is reproducible event for event.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};

use cutover_models::{SimDuration, SimTime};

/// A handle to a pending timer, used to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerId(u64);

/// Marks a cancellable timer in the lowest bit of its ordering key; the
/// sequence number sits above it, so the key still orders by scheduling.
const TIMER_BIT: u64 = 1;

struct Entry<E> {
    at: SimTime,
    /// Sequence number shifted left by one, with [`TIMER_BIT`] for timers.
    key: u64,
    /// `None` once delivered: the entry is then a spent head (see
    /// [`EventQueue::spent_head`]).
    event: Option<E>,
}

impl<E> Entry<E> {
    fn seq(&self) -> u64 {
        self.key >> 1
    }

    fn is_timer(&self) -> bool {
        self.key & TIMER_BIT != 0
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.key == other.key
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest instant
    /// and, among equal instants, the lowest sequence number.
    fn cmp(&self, other: &Self) -> Ordering {
        let order = |e: &Self| (u128::from(e.at.as_nanos()) << 64) | u128::from(e.key);
        order(other).cmp(&order(self))
    }
}

/// The simulation clock and its pending events.
///
/// Memory is proportional to the number of *pending* events and timers, never
/// to the number processed: a popped or cancelled entry leaves nothing behind.
///
/// A popped event's entry stays at the head of the heap, spent, until the
/// next call: a new event scheduled then takes its place with one sift-down
/// instead of a removal and an insertion (handling an event usually
/// schedules exactly one more). The order events run in is unchanged.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// Whether the heap's head is the spent entry of the last event popped.
    spent_head: bool,
    live_timers: HashSet<u64>,
    next_seq: u64,
    now: SimTime,
    processed: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue with the clock at zero.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            spent_head: false,
            live_timers: HashSet::new(),
            next_seq: 0,
            now: SimTime::ZERO,
            processed: 0,
        }
    }

    /// The current simulated time: the instant of the last event popped.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events popped so far (cancelled timers are not counted).
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Events and live timers waiting to run.
    pub fn pending(&self) -> usize {
        self.heap.len() - usize::from(self.spent_head)
    }

    /// Removes the spent head, if any.
    fn drop_spent_head(&mut self) {
        if self.spent_head {
            self.heap.pop();
            self.spent_head = false;
        }
    }

    fn push(&mut self, at: SimTime, event: E, cancellable: bool) -> u64 {
        // An instant in the past would run "now": time never goes backwards.
        let at = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        let flag = if cancellable { TIMER_BIT } else { 0 };
        let entry = Entry {
            at,
            key: (seq << 1) | flag,
            event: Some(event),
        };
        let spent = std::mem::take(&mut self.spent_head);
        if let Some(mut head) = self.heap.peek_mut().filter(|_| spent) {
            // The spent head is earlier than anything else and than `at`
            // (never before now): overwriting it and sifting down keeps the
            // heap ordered.
            *head = entry;
            return seq;
        }
        self.heap.push(entry);
        seq
    }

    /// Schedules `event` at instant `at` (an instant before now runs now).
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        self.push(at, event, false);
    }

    /// Schedules `event` after `delay` from now.
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        let at = self.now + delay;
        self.push(at, event, false);
    }

    /// Sets a cancellable timer that delivers `event` at `at`.
    pub fn set_timer_at(&mut self, at: SimTime, event: E) -> TimerId {
        let seq = self.push(at, event, true);
        self.live_timers.insert(seq);
        TimerId(seq)
    }

    /// Sets a cancellable timer that delivers `event` after `delay`.
    pub fn set_timer_in(&mut self, delay: SimDuration, event: E) -> TimerId {
        let at = self.now + delay;
        self.set_timer_at(at, event)
    }

    /// Cancels a timer. Returns whether it was still pending.
    pub fn cancel(&mut self, timer: TimerId) -> bool {
        self.live_timers.remove(&timer.0)
    }

    /// Pops the next event, advancing the clock to its instant. Cancelled
    /// timers are skipped. Returns `None` when nothing is pending.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.drop_spent_head();
        loop {
            let mut head = self.heap.peek_mut()?;
            if head.is_timer() && !self.live_timers.remove(&head.seq()) {
                std::collections::binary_heap::PeekMut::pop(head);
                continue;
            }
            let at = head.at;
            let event = head.event.take()?;
            drop(head);
            self.spent_head = true;
            self.now = at;
            self.processed += 1;
            return Some((at, event));
        }
    }

    /// The instant of the next event that will run, if any.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.drop_spent_head();
        while let Some(entry) = self.heap.peek() {
            if entry.is_timer() && !self.live_timers.contains(&entry.seq()) {
                self.heap.pop();
                continue;
            }
            return Some(entry.at);
        }
        None
    }

    /// The pending events in the order they will run, each with its
    /// instant (cancelled timers left out).
    pub fn pending_in_order(&self) -> Vec<(SimTime, &E)> {
        let mut live: Vec<&Entry<E>> = self
            .heap
            .iter()
            .filter(|e| e.event.is_some())
            .filter(|e| !e.is_timer() || self.live_timers.contains(&e.seq()))
            .collect();
        // The entries' order is reversed (the heap pops the greatest).
        live.sort_by(|a, b| b.cmp(a));
        live.into_iter()
            .filter_map(|e| e.event.as_ref().map(|ev| (e.at, ev)))
            .collect()
    }

    /// Moves the clock and every pending event due by `due_by` through
    /// `shift` (which must keep their order among themselves and put none
    /// after an event it leaves); sequence numbers are kept, so events at
    /// one instant run in the order they would have.
    pub fn shift_times(&mut self, due_by: SimTime, shift: &dyn Fn(SimTime) -> SimTime) {
        self.drop_spent_head();
        let mut entries = std::mem::take(&mut self.heap).into_vec();
        for e in entries.iter_mut().filter(|e| e.at <= due_by) {
            e.at = shift(e.at);
        }
        self.heap = BinaryHeap::from(entries);
        self.now = shift(self.now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn events_run_in_time_order() {
        let mut q = EventQueue::new();
        q.schedule_at(t(30), "c");
        q.schedule_at(t(10), "a");
        q.schedule_at(t(20), "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(t(10), "a"), (t(20), "b"), (t(30), "c")]);
        assert_eq!(q.now(), t(30));
        assert_eq!(q.processed(), 3);
    }

    #[test]
    fn same_instant_runs_in_scheduling_order() {
        let mut q = EventQueue::new();
        for i in 0..1000 {
            // Interleave two instants so the heap has to reorder.
            q.schedule_at(t(if i % 2 == 0 { 5 } else { 1 }), i);
        }
        let order: Vec<i32> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        let mut expected: Vec<i32> = (0..1000).filter(|i| i % 2 == 1).collect();
        expected.extend((0..1000).filter(|i| i % 2 == 0));
        assert_eq!(order, expected);
    }

    #[test]
    fn cancelled_timers_never_fire() {
        let mut q = EventQueue::new();
        let a = q.set_timer_at(t(10), "hold timer");
        q.schedule_at(t(5), "keepalive");
        let b = q.set_timer_at(t(20), "mrai");
        assert!(q.cancel(a));
        assert!(!q.cancel(a), "a second cancel finds nothing");
        assert_eq!(q.pop(), Some((t(5), "keepalive")));
        assert_eq!(q.peek_time(), Some(t(20)));
        assert_eq!(q.pop(), Some((t(20), "mrai")));
        assert!(!q.cancel(b), "a fired timer cannot be cancelled");
        assert_eq!(q.pop(), None);
        assert_eq!(q.processed(), 2);
    }

    proptest::proptest! {
        /// Whatever the mix of pops and schedules (which exercises the spent
        /// head being overwritten), events come out in (instant, scheduling
        /// order), exactly as an ordered set of the same entries gives them.
        #[test]
        fn matches_an_ordered_set(ops in proptest::collection::vec(proptest::option::of(0u64..20), 0..300)) {
            let mut q = EventQueue::new();
            let mut model = std::collections::BTreeSet::new();
            let mut seq = 0u64;
            for op in ops {
                match op {
                    Some(delay) => {
                        let at = q.now() + SimDuration::from_millis(delay);
                        q.schedule_at(at, seq);
                        model.insert((at, seq));
                        seq += 1;
                    }
                    None => {
                        let expected = model.pop_first();
                        proptest::prop_assert_eq!(q.pop(), expected);
                    }
                }
                proptest::prop_assert_eq!(q.pending(), model.len());
            }
            while let Some(expected) = model.pop_first() {
                proptest::prop_assert_eq!(q.pop(), Some(expected));
            }
            proptest::prop_assert_eq!(q.pop(), None);
        }
    }

    #[test]
    fn the_past_is_clamped_to_now() {
        let mut q = EventQueue::new();
        q.schedule_at(t(10), 1);
        q.pop();
        q.schedule_at(t(3), 2);
        assert_eq!(q.pop(), Some((t(10), 2)));
    }

    #[test]
    fn memory_tracks_pending_not_processed() {
        let mut q = EventQueue::new();
        q.schedule_at(t(0), 0u64);
        while let Some((now, i)) = q.pop() {
            if i < 100_000 {
                q.schedule_at(now + SimDuration::from_millis(1), i + 1);
                let timer = q.set_timer_in(SimDuration::from_secs(1), u64::MAX);
                q.cancel(timer);
            }
            assert!(q.pending() <= 1002, "pending grew to {}", q.pending());
        }
        assert_eq!(q.processed(), 100_001);
        assert!(q.live_timers.is_empty());
    }
}
