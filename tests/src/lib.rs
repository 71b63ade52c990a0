//! Helpers shared by corona's integration tests (`tests/tests/<area>_<topic>.rs`).

use std::cell::Cell;
use std::rc::Rc;

/// Counts how many of its [`Guard`]s were dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Rc<Cell<usize>>);

impl DropCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A guard that adds one to this counter when dropped.
    pub fn guard(&self) -> Guard {
        Guard(self.0.clone())
    }

    /// How many guards were dropped so far.
    pub fn dropped(&self) -> usize {
        self.0.get()
    }
}

/// Adds one to its [`DropCounter`] when dropped.
pub struct Guard(Rc<Cell<usize>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// The message of a panic payload, for asserting on it.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic payload>")
    }
}
