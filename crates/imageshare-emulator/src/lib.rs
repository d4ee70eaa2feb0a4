//! imageshare-emulator (issue #3).
