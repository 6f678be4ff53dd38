//! W3C Data Integrity credentials from other systems (to be written).
