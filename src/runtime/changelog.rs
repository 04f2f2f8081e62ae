//! The state changelog protocol, pure: how a partition's state is written to its changelog
//! partition and how it is read back.
//!
//! Records of changelog partition `p` (co-partitioned with input partition `p`):
//! - key `incident/<id>`, value the JSON of the [`Incident`] state (a null value, a tombstone,
//!   deletes the incident: written only to repair records left behind by a crash);
//! - key `checkpoint`, value `{"next_offset": N}`: every incident record before it, back to the
//!   previous checkpoint, reflects the input partition up to offset `N - 1`, and processing
//!   resumes at `N`.
//!
//! A commit cycle writes the incidents changed since the previous checkpoint, then a checkpoint.
//! A crash can leave incident records after the last checkpoint: they reflect input beyond the
//! checkpoint and are discarded on restore, because state ahead of the checkpoint could link a
//! re-processed report differently than the clean run did. Those keys are reported as *stale*:
//! their newest record in the log is not committed state, so the restored owner must write them
//! again (or a tombstone) in its first checkpoint. Otherwise the stale record would be applied
//! by the next checkpoint, or survive compaction as the key's only record.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::core::incident::Incident;
use crate::core::model::IncidentId;

/// The key of the checkpoint record.
pub const CHECKPOINT_KEY: &str = "checkpoint";
/// The prefix of incident record keys.
pub const INCIDENT_KEY_PREFIX: &str = "incident/";

/// The value of a checkpoint record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The next input offset to process: every offset before it is reflected in the state.
    pub next_offset: i64,
}

/// A changelog record's key, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangelogKey {
    /// An incident's state.
    Incident(IncidentId),
    /// A checkpoint.
    Checkpoint,
}

impl ChangelogKey {
    /// Parses a record key; `None` for keys this build does not know (skipped, so that a newer
    /// build may add record kinds).
    pub fn parse(key: &[u8]) -> Result<Option<Self>, ChangelogError> {
        if key == CHECKPOINT_KEY.as_bytes() {
            return Ok(Some(Self::Checkpoint));
        }
        let Some(rest) = key.strip_prefix(INCIDENT_KEY_PREFIX.as_bytes()) else {
            return Ok(None);
        };
        let text = std::str::from_utf8(rest).map_err(|_| ChangelogError::Key {
            key: String::from_utf8_lossy(key).into_owned(),
            reason: "not UTF-8".into(),
        })?;
        IncidentId::parse(text)
            .map(|id| Some(Self::Incident(id)))
            .map_err(|e| ChangelogError::Key {
                key: String::from_utf8_lossy(key).into_owned(),
                reason: e.to_string(),
            })
    }

    /// The key as written.
    pub fn encode(&self) -> String {
        match self {
            Self::Incident(id) => incident_key(id),
            Self::Checkpoint => CHECKPOINT_KEY.to_string(),
        }
    }
}

/// The key of an incident's record: `incident/<id>`.
pub fn incident_key(id: &IncidentId) -> String {
    let mut k = String::with_capacity(INCIDENT_KEY_PREFIX.len() + id.as_str().len());
    k.push_str(INCIDENT_KEY_PREFIX);
    k.push_str(id.as_str());
    k
}

/// One record to write to the changelog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogRecord {
    /// The key.
    pub key: String,
    /// The value; `None` is a tombstone.
    pub value: Option<Vec<u8>>,
}

impl ChangelogRecord {
    /// The record of an incident's state.
    pub fn incident(incident: &Incident) -> Result<Self, ChangelogError> {
        Ok(Self {
            key: incident_key(&incident.id),
            value: Some(
                serde_json::to_vec(incident).map_err(|e| ChangelogError::Encode {
                    key: incident_key(&incident.id),
                    reason: e.to_string(),
                })?,
            ),
        })
    }

    /// A tombstone for an incident that does not exist in the committed state.
    pub fn tombstone(id: &IncidentId) -> Self {
        Self {
            key: incident_key(id),
            value: None,
        }
    }

    /// A checkpoint record.
    pub fn checkpoint(next_offset: i64) -> Self {
        // A struct of one integer always serialises.
        let value = serde_json::to_vec(&Checkpoint { next_offset }).unwrap_or_default();
        Self {
            key: CHECKPOINT_KEY.to_string(),
            value: Some(value),
        }
    }
}

/// Why the changelog could not be written or read back.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChangelogError {
    /// A key that starts like a known key but does not parse.
    #[error("changelog key {key:?}: {reason}")]
    Key {
        /// The key (lossily decoded).
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A committed record whose value does not decode.
    #[error("changelog record {key} at offset {offset}: {reason}")]
    Value {
        /// The key.
        key: String,
        /// The record's offset in the changelog partition.
        offset: i64,
        /// What is wrong.
        reason: String,
    },
    /// A state that could not be encoded.
    #[error("encoding changelog record {key}: {reason}")]
    Encode {
        /// The key.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// A restored partition state: what a changelog partition says, up to its last checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// The committed incidents (absorbed ones included), sorted by id.
    pub incidents: Vec<Incident>,
    /// The last checkpoint's next offset; `None` when the partition was never checkpointed.
    pub next_offset: Option<i64>,
    /// Incidents whose newest record lies after the last checkpoint and was discarded: the
    /// restored owner must write their committed state (or a tombstone) again.
    pub stale: Vec<IncidentId>,
    /// Changelog records read.
    pub records: u64,
    /// Records after the last checkpoint, discarded.
    pub discarded: u64,
}

/// A pending (not yet checkpointed) incident record, kept undecoded: it is decoded only if a
/// checkpoint commits it.
#[derive(Debug)]
struct Pending {
    offset: i64,
    value: Option<Vec<u8>>,
}

/// The restore fold: feed it a changelog partition's records in offset order, then call
/// [`RestoreFold::finish`].
#[derive(Debug, Default)]
pub struct RestoreFold {
    committed: BTreeMap<IncidentId, Incident>,
    pending: BTreeMap<IncidentId, Pending>,
    next_offset: Option<i64>,
    records: u64,
}

impl RestoreFold {
    /// An empty fold.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in one record: its offset in the changelog partition, key and value (`None` for a
    /// tombstone). Errors on a committed value that does not decode: the state cannot be
    /// restored faithfully, and guessing would break the guarantee that re-published versions
    /// are identical.
    pub fn push(
        &mut self,
        offset: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) -> Result<(), ChangelogError> {
        self.records += 1;
        let Some(key) = key else {
            return Ok(());
        };
        match ChangelogKey::parse(key)? {
            None => Ok(()),
            Some(ChangelogKey::Incident(id)) => {
                // The newest record of a key in a batch is the one that counts.
                self.pending.insert(
                    id,
                    Pending {
                        offset,
                        value: value.map(<[u8]>::to_vec),
                    },
                );
                Ok(())
            }
            Some(ChangelogKey::Checkpoint) => {
                let Some(value) = value else {
                    // A checkpoint tombstone carries no position; nothing is committed by it.
                    return Ok(());
                };
                let cp: Checkpoint =
                    serde_json::from_slice(value).map_err(|e| ChangelogError::Value {
                        key: CHECKPOINT_KEY.into(),
                        offset,
                        reason: e.to_string(),
                    })?;
                self.commit()?;
                self.next_offset = Some(cp.next_offset);
                Ok(())
            }
        }
    }

    /// Applies the pending records: a checkpoint committed them.
    fn commit(&mut self) -> Result<(), ChangelogError> {
        for (id, p) in std::mem::take(&mut self.pending) {
            match p.value {
                None => {
                    self.committed.remove(&id);
                }
                Some(bytes) => {
                    let key = incident_key(&id);
                    let inc: Incident =
                        serde_json::from_slice(&bytes).map_err(|e| ChangelogError::Value {
                            key: key.clone(),
                            offset: p.offset,
                            reason: e.to_string(),
                        })?;
                    if inc.id != id {
                        return Err(ChangelogError::Value {
                            key,
                            offset: p.offset,
                            reason: format!("holds the state of incident {}", inc.id),
                        });
                    }
                    self.committed.insert(id, inc);
                }
            }
        }
        Ok(())
    }

    /// The state as of the last checkpoint. Records after it are discarded and their keys
    /// reported as stale.
    pub fn finish(self) -> Restored {
        let discarded = self.pending.len() as u64;
        Restored {
            incidents: self.committed.into_values().collect(),
            next_offset: self.next_offset,
            stale: self.pending.into_keys().collect(),
            records: self.records,
            discarded,
        }
    }
}

/// Restores from a whole changelog partition given as `(offset, key, value)` records in offset
/// order.
pub fn restore<'a, I>(records: I) -> Result<Restored, ChangelogError>
where
    I: IntoIterator<Item = (i64, Option<&'a [u8]>, Option<&'a [u8]>)>,
{
    let mut fold = RestoreFold::new();
    for (offset, key, value) in records {
        fold.push(offset, key, value)?;
    }
    Ok(fold.finish())
}

/// The records a commit cycle writes for one partition: the state of every incident in
/// `dirty` (a tombstone for those the state does not hold), then the checkpoint.
pub fn checkpoint_records<'a>(
    dirty: &BTreeSet<IncidentId>,
    lookup: impl Fn(&IncidentId) -> Option<&'a Incident>,
    next_offset: i64,
) -> Result<Vec<ChangelogRecord>, ChangelogError> {
    let mut out = Vec::with_capacity(dirty.len() + 1);
    for id in dirty {
        out.push(match lookup(id) {
            Some(inc) => ChangelogRecord::incident(inc)?,
            None => ChangelogRecord::tombstone(id),
        });
    }
    out.push(ChangelogRecord::checkpoint(next_offset));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::registry::SourceRegistry;
    use crate::core::Engine;
    use crate::wire::json;

    const SEED: &str = include_str!("../../tests/fixtures/seed-2017-iraq.jsonl");

    fn seed_engine(n: usize) -> Engine {
        let mut e = Engine::new(SourceRegistry::default());
        for line in SEED.lines().take(n) {
            let r = json::decode_report(line.as_bytes()).unwrap();
            e.apply(&r);
        }
        e
    }

    /// A changelog as `(key, value)` pairs, offsets assigned in order.
    #[derive(Default)]
    struct Log(Vec<(String, Option<Vec<u8>>)>);

    impl Log {
        fn write(&mut self, records: Vec<ChangelogRecord>) {
            self.0.extend(records.into_iter().map(|r| (r.key, r.value)));
        }
        fn restore(&self) -> Restored {
            restore(
                self.0
                    .iter()
                    .enumerate()
                    .map(|(i, (k, v))| (i as i64, Some(k.as_bytes()), v.as_deref())),
            )
            .unwrap()
        }
        /// Keeps only the newest record per key, as compaction eventually does.
        fn compacted(&self) -> Log {
            let mut last: BTreeMap<&str, usize> = BTreeMap::new();
            for (i, (k, _)) in self.0.iter().enumerate() {
                last.insert(k, i);
            }
            Log(self
                .0
                .iter()
                .enumerate()
                .filter(|(i, (k, _))| last[k.as_str()] == *i)
                .map(|(_, r)| r.clone())
                .collect())
        }
    }

    fn all_records(e: &Engine, next: i64) -> Vec<ChangelogRecord> {
        let ids: BTreeSet<IncidentId> = e.incidents().map(|i| i.id.clone()).collect();
        checkpoint_records(&ids, |id| e.incident(id), next).unwrap()
    }

    fn sorted(e: &Engine) -> Vec<Incident> {
        let mut v: Vec<Incident> = e.incidents().cloned().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    #[test]
    fn keys_round_trip_and_unknown_keys_are_skipped() {
        let id = IncidentId::parse("iq-20170813-abc").unwrap();
        let k = ChangelogKey::Incident(id.clone());
        assert_eq!(k.encode(), "incident/iq-20170813-abc");
        assert_eq!(ChangelogKey::parse(k.encode().as_bytes()).unwrap(), Some(k));
        assert_eq!(
            ChangelogKey::parse(b"checkpoint").unwrap(),
            Some(ChangelogKey::Checkpoint)
        );
        assert_eq!(ChangelogKey::parse(b"something-else").unwrap(), None);
        assert!(ChangelogKey::parse(b"incident/").is_err());
        let cp = ChangelogRecord::checkpoint(42);
        assert_eq!(cp.value.as_deref(), Some(&b"{\"next_offset\":42}"[..]));
    }

    #[test]
    fn an_empty_changelog_restores_nothing() {
        let r = Log::default().restore();
        assert_eq!(r, Restored::default());
    }

    #[test]
    fn restores_the_state_at_the_last_checkpoint() {
        let e = seed_engine(5);
        let mut log = Log::default();
        log.write(all_records(&e, 5));
        let r = log.restore();
        assert_eq!(r.next_offset, Some(5));
        assert_eq!(r.incidents, sorted(&e));
        assert!(r.stale.is_empty());
        assert_eq!(r.discarded, 0);
        // The restored engine gives the same views.
        let back = Engine::restore(SourceRegistry::default(), r.incidents);
        assert_eq!(back.views(), e.views());
    }

    #[test]
    fn trailing_records_after_the_last_checkpoint_are_ignored_and_stale() {
        let early = seed_engine(2);
        let late = seed_engine(5);
        let mut log = Log::default();
        log.write(all_records(&early, 2));
        // A crash in the middle of a commit cycle: incident records, no checkpoint.
        let mut trailing = all_records(&late, 5);
        trailing.pop();
        log.write(trailing);
        let r = log.restore();
        assert_eq!(r.next_offset, Some(2));
        assert_eq!(r.incidents, sorted(&early));
        let all_late: Vec<IncidentId> = sorted(&late).into_iter().map(|i| i.id).collect();
        assert_eq!(r.stale, all_late);
        assert_eq!(r.discarded, all_late.len() as u64);
    }

    #[test]
    fn stale_records_are_repaired_by_the_next_checkpoint() {
        let early = seed_engine(2);
        let late = seed_engine(5);
        let mut log = Log::default();
        log.write(all_records(&early, 2));
        let mut trailing = all_records(&late, 5);
        trailing.pop();
        log.write(trailing);
        // The restored owner rewrites the stale keys (tombstones for those it does not hold)
        // with its committed state, without processing anything new.
        let r = log.restore();
        let back = Engine::restore(SourceRegistry::default(), r.incidents.clone());
        let stale: BTreeSet<IncidentId> = r.stale.iter().cloned().collect();
        log.write(checkpoint_records(&stale, |id| back.incident(id), 2).unwrap());
        for l in [&log, &log.compacted()] {
            let again = l.restore();
            assert_eq!(again.next_offset, Some(2));
            assert_eq!(again.incidents, sorted(&early));
            assert!(again.stale.is_empty());
        }
    }

    #[test]
    fn compacted_logs_restore_the_same_state() {
        let mut e = Engine::new(SourceRegistry::default());
        let mut log = Log::default();
        for (n, line) in SEED.lines().enumerate() {
            let r = json::decode_report(line.as_bytes()).unwrap();
            let dirty: BTreeSet<IncidentId> =
                e.apply(&r).into_iter().map(|u| u.incident_id).collect();
            log.write(checkpoint_records(&dirty, |id| e.incident(id), n as i64 + 1).unwrap());
        }
        let full = log.restore();
        let compacted = log.compacted();
        assert!(compacted.0.len() < log.0.len());
        assert_eq!(compacted.restore().incidents, full.incidents);
        assert_eq!(compacted.restore().next_offset, Some(5));
        assert_eq!(full.incidents, sorted(&e));
    }

    #[test]
    fn absorbed_incidents_restore() {
        // Two reports open two incidents; a third names an explicit incident that absorbs
        // both.
        let base = |id: &str, place: &str, explicit: Option<&str>| {
            let inc = explicit
                .map(|i| format!("\"incident_id\":\"{i}\","))
                .unwrap_or_default();
            format!(
                r#"{{"report_id":"{id}","publisher":{{"id":"pub-{id}","kind":"independent_media"}},
                "published_at":"2020-01-02T00:00:00Z","incident":{{{inc}"occurred_at":"2020-01-01T00:00:00Z",
                "location":{{"country":"IQ","admin1":"Ninawa","place":"{place}","precision":"place"}},
                "event_type":"vbied","target":"civilians"}},
                "claims":[{{"claimant":{{"id":"pub-{id}","kind":"independent_media"}},"kind":"casualties",
                "party":"civilians","outcome":"killed","count":{{"qualifier":"exact","value":3}}}}]}}"#
            )
            .replace('\n', "")
        };
        let mut e = Engine::new(SourceRegistry::default());
        let mut log = Log::default();
        let mut merged = false;
        for (n, line) in [
            base("a", "Market", None),
            base("b", "Market", None),
            base("c", "Market", Some("iq-explicit-1")),
        ]
        .iter()
        .enumerate()
        {
            let r = json::decode_report(line.as_bytes()).unwrap();
            let updates = e.apply(&r);
            merged |= updates.iter().any(|u| u.merge.is_some());
            let dirty: BTreeSet<IncidentId> = updates.into_iter().map(|u| u.incident_id).collect();
            log.write(checkpoint_records(&dirty, |id| e.incident(id), n as i64 + 1).unwrap());
        }
        assert!(merged, "the explicit report absorbs the derived incident");
        let r = log.restore();
        assert_eq!(r.incidents, sorted(&e));
        assert!(r.incidents.iter().any(|i| i.absorbed_into.is_some()));
        let back = Engine::restore(SourceRegistry::default(), r.incidents);
        assert_eq!(back.views(), e.views());
        assert_eq!(back.live_incidents(), e.live_incidents());
    }

    #[test]
    fn corrupt_committed_records_fail_and_corrupt_trailing_records_do_not() {
        let mut log = Log::default();
        log.0
            .push(("incident/x-1".into(), Some(b"{not json".to_vec())));
        // Trailing: never decoded.
        assert!(log.restore().stale.len() == 1);
        log.0
            .push(("checkpoint".into(), Some(b"{\"next_offset\":1}".to_vec())));
        let err = restore(
            log.0
                .iter()
                .enumerate()
                .map(|(i, (k, v))| (i as i64, Some(k.as_bytes()), v.as_deref())),
        )
        .unwrap_err();
        assert!(
            matches!(err, ChangelogError::Value { offset: 0, .. }),
            "{err}"
        );
    }
}
