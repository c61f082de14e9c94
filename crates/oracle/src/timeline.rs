//! Replay of historical bars (work in progress).
