//! Observed speed bands: speeds per road edge and hour of the week, learned from matched trips
//! (the issue "Map matching and observed road speeds"). Empty until then.
