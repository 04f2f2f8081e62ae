//! Linking: which incident a report speaks about. An explicit incident id wins; otherwise the
//! best-scoring open incident in the same region and time window; otherwise a new incident.

mod profile;
mod score;

pub use profile::{Features, Flag, FlagSet, Level, PlaceName, Profile, ProfileChange};
pub use score::{
    compatible, names_match, score, PlaceProbe, PlaceSketch, Window, LINK_THRESHOLD,
    MERGE_THRESHOLD,
};
