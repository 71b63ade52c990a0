//! What the cases did, summed over a test, so that it can check it was not vacuous.

#[derive(Clone, Copy, Default, Debug)]
pub struct Stats {
    pub polls: usize,
    pub woken_at_once: usize,
    pub woken_later: usize,
    pub interrupted: usize,
    /// Times the ticker advanced while the io coroutine waited on a mock.
    pub ticks_while_io_waited: usize,
    pub cancelled_while_io_waited: usize,
    pub interrupts_raised: usize,
    pub panics: usize,
    pub timeouts: usize,
}

impl Stats {
    pub fn add(&mut self, other: Stats) {
        self.polls += other.polls;
        self.woken_at_once += other.woken_at_once;
        self.woken_later += other.woken_later;
        self.interrupted += other.interrupted;
        self.ticks_while_io_waited += other.ticks_while_io_waited;
        self.cancelled_while_io_waited += other.cancelled_while_io_waited;
        self.interrupts_raised += other.interrupts_raised;
        self.panics += other.panics;
        self.timeouts += other.timeouts;
    }

    /// Only what a mock counts (its answers); the rest is the driver's to count.
    pub fn of_mock(self) -> Stats {
        Stats {
            polls: 0,
            ticks_while_io_waited: 0,
            cancelled_while_io_waited: 0,
            interrupts_raised: 0,
            panics: 0,
            timeouts: 0,
            ..self
        }
    }
}
