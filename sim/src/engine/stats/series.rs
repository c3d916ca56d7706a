//! Fixed-interval time series: one row per interval of simulated time, one
//! column per metric, each column with its own aggregation.
//!
//! Memory grows with simulated duration / interval, never with the number of
//! samples recorded.

use std::io::Write;

use cutover_models::{SimDuration, SimTime};

/// How a column turns the samples of one interval into a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregation {
    /// Sum of the samples (a counter per interval); zero when empty.
    Sum,
    /// Mean of the samples; empty when there were none.
    Mean,
    /// Largest sample; empty when there were none.
    Max,
    /// Time-weighted mean of a piecewise-constant signal set with
    /// [`TimeSeries::set`]; carries across intervals with no change.
    TimeAverage,
}

#[derive(Clone, Copy, Debug)]
struct Cell {
    sum: f64,
    count: u64,
    max: f64,
}

const EMPTY: Cell = Cell {
    sum: 0.0,
    count: 0,
    max: f64::NEG_INFINITY,
};

#[derive(Clone, Copy, Debug)]
struct Signal {
    since: SimTime,
    value: f64,
}

/// A fixed-interval time series.
#[derive(Clone, Debug)]
pub struct TimeSeries {
    interval: SimDuration,
    names: Vec<String>,
    kinds: Vec<Aggregation>,
    signals: Vec<Signal>,
    /// Row-major cells: row r, column c at `r * width + c`.
    cells: Vec<Cell>,
    end: SimTime,
    /// The row most recently touched, `[start, end)` in nanoseconds: samples
    /// mostly land in it, which spares a division per sample.
    hot_row: usize,
    hot_start: u64,
    hot_end: u64,
}

impl TimeSeries {
    /// A series with rows `interval` long (at least 1 ns) and the given columns.
    pub fn new(interval: SimDuration, columns: &[(&str, Aggregation)]) -> Self {
        TimeSeries {
            interval: interval.max(SimDuration::from_nanos(1)),
            names: columns.iter().map(|(n, _)| n.to_string()).collect(),
            kinds: columns.iter().map(|(_, k)| *k).collect(),
            signals: vec![
                Signal {
                    since: SimTime::ZERO,
                    value: 0.0
                };
                columns.len()
            ],
            cells: Vec::new(),
            end: SimTime::ZERO,
            hot_row: 0,
            hot_start: 0,
            hot_end: 0,
        }
    }

    fn width(&self) -> usize {
        self.kinds.len()
    }

    /// The index of the first cell of the row holding instant `t`
    /// (nanoseconds); that row becomes the hot row and exists afterwards.
    #[inline]
    fn row_offset(&mut self, t: u64) -> usize {
        if t >= self.hot_start && t < self.hot_end {
            return self.hot_row * self.width();
        }
        self.enter_row(t)
    }

    /// Makes the row holding `t` the hot row, creating it (and any rows
    /// before it) empty if the series is shorter; returns its first cell.
    #[cold]
    fn enter_row(&mut self, t: u64) -> usize {
        let step = self.interval.as_nanos();
        let row = t / step;
        self.hot_row = row as usize;
        self.hot_start = row * step;
        self.hot_end = self.hot_start.saturating_add(step);
        let width = self.width();
        let end = (self.hot_row + 1) * width;
        if end > self.cells.len() {
            self.cells.resize(end, EMPTY);
        }
        end - width
    }

    /// Records a sample of column `col` at `t` (for Sum, Mean and Max columns).
    #[inline]
    pub fn add(&mut self, t: SimTime, col: usize, value: f64) {
        self.add_all(t, &[(col, value)]);
    }

    /// Records several samples at the same instant `t`, one per `(column,
    /// value)` pair: one row look-up for all of them.
    #[inline]
    pub fn add_all(&mut self, t: SimTime, samples: &[(usize, f64)]) {
        self.end = self.end.max(t);
        let offset = self.row_offset(t.as_nanos());
        let width = self.width();
        let cells = &mut self.cells[offset..offset + width];
        for &(col, value) in samples {
            let cell = &mut cells[col];
            cell.sum += value;
            cell.count += 1;
            cell.max = cell.max.max(value);
        }
    }

    /// The signal of TimeAverage column `col` changes to `value` at `t`.
    #[inline(always)]
    pub fn set(&mut self, t: SimTime, col: usize, value: f64) {
        debug_assert_eq!(self.kinds[col], Aggregation::TimeAverage);
        if self.signals[col].value == value {
            // An unchanged signal: its area accrues at the next change.
            return;
        }
        self.accumulate(col, t);
        self.signals[col].value = value;
    }

    /// Spreads the area of column `col`'s signal from its last change to `t`
    /// over the rows it spans.
    #[inline]
    fn accumulate(&mut self, col: usize, t: SimTime) {
        let Signal { since, value } = self.signals[col];
        if t <= since {
            return;
        }
        self.signals[col].since = t;
        self.end = self.end.max(t);
        let (from, to) = (since.as_nanos(), t.as_nanos());
        // Fast path: the whole span lies in the hot row. A row is hot only
        // once it exists (before any, `hot_end` is 0 and `to` is above it).
        if from >= self.hot_start && to <= self.hot_end {
            let cell = self.hot_row * self.width() + col;
            self.cells[cell].sum += value * (to - from) as f64;
            return;
        }
        self.accumulate_across_rows(col, value, from, to);
    }

    /// Area in value x nanoseconds from `from` to `to`, split at row
    /// boundaries; divided by each row's span on output.
    #[cold]
    fn accumulate_across_rows(&mut self, col: usize, value: f64, mut from: u64, to: u64) {
        while from < to {
            let offset = self.row_offset(from);
            let row_end = self.hot_end.min(to);
            self.cells[offset + col].sum += value * (row_end - from) as f64;
            from = row_end;
        }
    }

    /// Closes the series at `end`: time-average signals are carried up to it.
    pub fn finish(&mut self, end: SimTime) {
        for col in 0..self.names.len() {
            if self.kinds[col] == Aggregation::TimeAverage {
                self.accumulate(col, end);
            }
        }
        self.end = self.end.max(end);
        let rows = self.end.as_nanos().div_ceil(self.interval.as_nanos()) as usize;
        if rows > self.len() {
            let width = self.width();
            self.cells.resize(rows * width, EMPTY);
        }
    }

    /// Repeats the last `rows` rows `times` times after them, the series
    /// being at `now`, the end of its last row: what the series would hold
    /// had the span of those rows recurred `times` times over. Time-average
    /// signals are carried up to `now` first and continue from the end of
    /// the copies. False (and nothing changed) when the series does not
    /// end at `now` or has fewer rows.
    pub fn repeat_last_rows(&mut self, now: SimTime, rows: usize, times: usize) -> bool {
        let len = self.len();
        if rows > len || len as u64 * self.interval.as_nanos() != now.as_nanos() {
            return false;
        }
        for col in 0..self.names.len() {
            if self.kinds[col] == Aggregation::TimeAverage {
                self.accumulate(col, now);
            }
        }
        let width = self.width();
        let last = self.cells[(len - rows) * width..].to_vec();
        for _ in 0..times {
            self.cells.extend_from_slice(&last);
        }
        let later = SimTime::from_nanos(self.len() as u64 * self.interval.as_nanos());
        for signal in &mut self.signals {
            signal.since = signal.since.max(later);
        }
        self.end = later;
        (self.hot_row, self.hot_start, self.hot_end) = (0, 0, 0);
        true
    }

    /// Column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.names
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.cells.len().checked_div(self.width()).unwrap_or(0)
    }

    /// Whether the series has no rows.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The value of column `col` in row `row` (`None` for an empty Mean or Max).
    pub fn value(&self, row: usize, col: usize) -> Option<f64> {
        if col >= self.width() {
            return None;
        }
        let cell = self.cells.get(row * self.width() + col)?;
        match self.kinds[col] {
            Aggregation::Sum => Some(cell.sum),
            Aggregation::Mean => (cell.count > 0).then(|| cell.sum / cell.count as f64),
            Aggregation::Max => (cell.count > 0).then_some(cell.max),
            Aggregation::TimeAverage => {
                let start = row as u64 * self.interval.as_nanos();
                let stop = (start + self.interval.as_nanos()).min(self.end.as_nanos());
                let span_ns = stop.saturating_sub(start) as f64;
                (span_ns > 0.0).then(|| cell.sum / span_ns)
            }
        }
    }

    /// The time-weighted mean of TimeAverage column `col` over the whole
    /// series, from zero to the instant given to [`TimeSeries::finish`].
    pub fn overall_time_average(&self, col: usize) -> Option<f64> {
        if col >= self.width() || self.kinds[col] != Aggregation::TimeAverage {
            return None;
        }
        let span_ns = self.end.as_nanos() as f64;
        let area_ns: f64 = self
            .cells
            .iter()
            .skip(col)
            .step_by(self.width())
            .map(|c| c.sum)
            .sum();
        (span_ns > 0.0).then(|| area_ns / span_ns)
    }

    /// The start of row `row`, in seconds.
    pub fn row_start_s(&self, row: usize) -> f64 {
        (row as u64 * self.interval.as_nanos()) as f64 / 1e9
    }

    /// Writes the series as CSV: `time_s` then one column per metric; an
    /// empty cell where an interval had no sample.
    pub fn write_csv<W: Write>(&self, out: W) -> csv::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec!["time_s".to_string()];
        header.extend(self.names.iter().cloned());
        w.write_record(&header)?;
        for row in 0..self.len() {
            let mut record = vec![format!("{}", self.row_start_s(row))];
            for col in 0..self.names.len() {
                record.push(
                    self.value(row, col)
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                );
            }
            w.write_record(&record)?;
        }
        w.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn aggregates_per_interval() {
        let mut ts = TimeSeries::new(
            SimDuration::from_secs(10),
            &[
                ("count", Aggregation::Sum),
                ("mean", Aggregation::Mean),
                ("max", Aggregation::Max),
                ("busy", Aggregation::TimeAverage),
            ],
        );
        ts.add(t(1), 0, 1.0);
        ts.add(t(2), 0, 1.0);
        ts.add(t(3), 1, 2.0);
        ts.add(t(4), 1, 4.0);
        ts.add(t(5), 2, 7.0);
        ts.add(t(25), 0, 1.0);
        ts.set(t(5), 3, 2.0); // 0 for 5 s, then 2 until 15 s
        ts.set(t(15), 3, 0.0);
        ts.finish(t(25));
        assert_eq!(ts.len(), 3);
        assert_eq!(ts.value(0, 0), Some(2.0));
        assert_eq!(ts.value(1, 0), Some(0.0));
        assert_eq!(ts.value(2, 0), Some(1.0));
        assert_eq!(ts.value(0, 1), Some(3.0));
        assert_eq!(ts.value(1, 1), None);
        assert_eq!(ts.value(0, 2), Some(7.0));
        assert_eq!(ts.value(0, 3), Some(1.0)); // 2 for 5 of 10 s
        assert_eq!(ts.value(1, 3), Some(1.0)); // 2 for 5 of 10 s
        assert_eq!(ts.value(2, 3), Some(0.0)); // last row is 5 s long
        assert_eq!(ts.overall_time_average(3), Some(20.0 / 25.0));
        assert_eq!(ts.overall_time_average(0), None);
        let mut csv = Vec::new();
        ts.write_csv(&mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(
            text,
            "time_s,count,mean,max,busy\n0,2,3,7,1\n10,0,,,1\n20,1,,,0\n"
        );
    }
}
