//! The per-partition fold: reports in, updates out. Owns every incident of one partition, the
//! set of report ids seen, and the linking index. Deterministic: the updates produced depend only
//! on the sequence of reports applied (and the source registry, gazetteer and actor table),
//! never on clocks, randomness or hash-map order.

use std::sync::Arc;

use foldhash::{HashMap, HashSet};
use smallvec::SmallVec;

use crate::core::actors::ActorNames;
use crate::core::error::Rejected;
use crate::core::estimate::{
    all_sections, party_claims_by_rule, reconcile, section_hashes, section_hashes_after,
    view_section_hashes, ReportChange,
};
use crate::core::gazetteer::Gazetteer;
use crate::core::incident::{ClaimRecord, Incident};
use crate::core::intern::Interner;
use crate::core::limits::MAX_REPORTS_PER_INCIDENT;
use crate::core::link::{
    compatible, score, Features, PlaceProbe, Window, LINK_THRESHOLD, MERGE_THRESHOLD,
};
use crate::core::model::{IncidentId, Report, ReportId};
use crate::core::registry::SourceRegistry;
use crate::core::update::{stable_hash, MergeNotice, Section, Sections, Update};
use crate::core::view::IncidentView;

/// The reconciliation state of one partition.
#[derive(Debug, Default)]
pub struct Engine {
    registry: SourceRegistry,
    /// Standard place names, applied to each report before it is linked.
    places: Arc<Gazetteer>,
    /// Actors' ids and their aliases, applied to each report before it is applied.
    actors: Arc<ActorNames>,
    interner: Interner,
    // Boxed: an incident is a few hundred bytes and the list grows by doubling; slack of
    // pointers costs far less than slack of incidents.
    #[allow(clippy::vec_box)]
    incidents: Vec<Box<Incident>>,
    by_id: HashMap<IncidentId, usize>,
    /// Report ids seen, as a stable 64-bit hash -> the incident that took the report in. A hit
    /// is confirmed against that incident's evidence, so a hash collision never drops a report;
    /// colliding ids go to `seen_exact`. This keeps the set at ~12 bytes per report.
    seen: HashMap<u64, u32>,
    seen_exact: HashSet<ReportId>,
    regions: HashMap<arcstr::ArcStr, u32>,
    /// (region, week) -> the incidents that can be found on some day of the week, each with
    /// those days. Days are `i32` (see [`day`]). A week per list: a report's window spans a
    /// few days, so one or two lookups find every candidate, where a map by day took one per
    /// day; a span per incident and week, not an entry per day, so an incident is read once.
    index: HashMap<(u32, i32), Vec<Span>>,
    /// Per incident, its time window and whether it stands: the index's candidates are
    /// checked against these before their profiles are read. A standing incident is
    /// registered in `index` for its window's day range.
    windows: Vec<Window>,
    /// Per incident, whether its digest must be taken whole at the next report (restored).
    stale: Vec<bool>,
    /// Scratch lists reused from report to report.
    fresh: Vec<(Section, Option<u64>)>,
    superseded: Vec<ClaimRecord>,
    /// The sections the last report changed, read by its [`Folded`].
    changed: Vec<Section>,
    /// Scratch lists of linking, reused from report to report: the incidents the index reaches,
    /// and those that scored.
    reach: Vec<u32>,
    scored: Vec<(i32, usize)>,
}

/// What applying one report did, before its updates are rendered. Borrows the engine, so the
/// views are rendered from the state this report left, before any other report is applied,
/// and the report (its id is cloned only into rendered updates).
#[derive(Debug)]
pub struct Folded<'a> {
    engine: &'a Engine,
    report_id: &'a ReportId,
    /// Incidents the report showed to be the target, each with its version already advanced.
    absorbed: Vec<usize>,
    /// The incident the report joined, if it gets a new version.
    target: Option<usize>,
    /// Sections of the target's view that changed (the engine keeps the list between reports).
    changes: &'a [Section],
    /// The target's view, when it was rendered during the fold.
    view: Option<IncidentView>,
}

impl<'a> Folded<'a> {
    fn nothing(engine: &'a Engine, report_id: &'a ReportId) -> Self {
        Self {
            engine,
            report_id,
            absorbed: Vec::new(),
            target: None,
            changes: &[],
            view: None,
        }
    }

    /// How many updates the report causes.
    pub fn len(&self) -> usize {
        self.absorbed.len() + usize::from(self.target.is_some())
    }

    /// Whether the report changed no incident's view.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The updates, in publication order: absorbed incidents first (by id), then the incident
    /// the report joined, with its whole view.
    pub fn into_updates(self) -> Vec<Update> {
        self.build(true)
    }

    /// The same updates with the joined incident's view left out (`None`), for a caller that
    /// keeps only the latest update of each incident and renders its view once, at the end
    /// ([`crate::core::latest::Latest`]): rendering a view costs about as much as the fold.
    pub fn into_updates_unrendered(self) -> Vec<Update> {
        self.build(false)
    }

    fn build(self, render: bool) -> Vec<Update> {
        let engine = self.engine;
        let Some(target) = self.target else {
            return Vec::new();
        };
        let survivor = &engine.incidents[target];
        let mut updates = Vec::with_capacity(self.len());
        let mut absorbed_ids = Vec::with_capacity(self.absorbed.len());
        for idx in self.absorbed {
            let other = &engine.incidents[idx];
            absorbed_ids.push(other.id.clone());
            updates.push(Update::new(
                other.id.clone(),
                other.version,
                None,
                vec!["merged".into()],
                vec![self.report_id.clone()],
                Some(MergeNotice::AbsorbedInto {
                    incident_id: survivor.id.clone(),
                }),
            ));
        }
        let mut changes: Vec<String> = self.changes.iter().copied().map(Section::path).collect();
        let merge = if absorbed_ids.is_empty() {
            None
        } else {
            changes.push("merged".into());
            absorbed_ids.sort();
            Some(MergeNotice::Absorbed {
                incidents: absorbed_ids,
            })
        };
        let view = render.then(|| {
            self.view
                .unwrap_or_else(|| reconcile(survivor, &engine.registry))
        });
        updates.push(Update::new(
            survivor.id.clone(),
            survivor.version,
            view,
            changes,
            vec![self.report_id.clone()],
            merge,
        ));
        updates
    }
}

/// Where a report goes: the incident it joins and those it shows to be the same incident.
struct Placement {
    target: usize,
    absorb: Vec<usize>,
    /// The incident the report matched best, which it joins when the merge does not happen.
    best: usize,
}

/// The report under the gazetteer's names, its names looked up by the keys the interner holds
/// for them (which linking then reads again); out of line, as most engines have no gazetteer
/// and the fold's code should stay compact.
#[cold]
#[inline(never)]
fn standardise(places: &Gazetteer, interner: &mut Interner, report: &Report) -> Option<Report> {
    places.standardise_with(report, &mut |place, n| {
        let (_, keys) = if place {
            interner.place_key(n)
        } else {
            interner.area_key(n)
        };
        keys.fold
    })
}

impl Engine {
    /// An empty engine with the given source registry.
    pub fn new(registry: SourceRegistry) -> Self {
        Self {
            registry,
            ..Self::default()
        }
    }

    /// The engine, writing each report under the standard place names of `places` before
    /// linking it.
    pub fn with_places(mut self, places: Arc<Gazetteer>) -> Self {
        self.places = places;
        self
    }

    /// The engine, writing each report's responsibility claims under the actor ids of
    /// `actors` before applying it.
    pub fn with_actors(mut self, actors: Arc<ActorNames>) -> Self {
        self.actors = actors;
        self
    }

    /// Rebuilds an engine from stored incident states (in any order).
    pub fn restore(
        registry: SourceRegistry,
        incidents: impl IntoIterator<Item = Incident>,
    ) -> Self {
        let mut engine = Self::new(registry);
        let mut all: Vec<Incident> = incidents.into_iter().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        for mut inc in all {
            inc.normalise();
            engine.insert(inc);
        }
        engine
    }

    /// Number of incidents that stand (not absorbed).
    pub fn live_incidents(&self) -> usize {
        self.incidents.iter().filter(|i| i.is_live()).count()
    }

    /// Every incident, absorbed ones included, in no particular order.
    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.iter().map(|b| &**b)
    }

    /// An incident by id (absorbed ones too).
    pub fn incident(&self, id: &IncidentId) -> Option<&Incident> {
        self.by_id.get(id).map(|i| &*self.incidents[*i])
    }

    /// Whether a report id was applied already.
    pub fn has_seen(&self, id: &ReportId) -> bool {
        self.seen_with(id, stable_hash(id.as_str()))
    }

    /// [`Engine::has_seen`], given the id's hash (the fold hashes each report id once).
    fn seen_with(&self, id: &ReportId, hash: u64) -> bool {
        if self.seen_exact.contains(id) {
            return true;
        }
        let Some(&idx) = self.seen.get(&hash) else {
            return false;
        };
        let Some(idx) = self.follow(idx as usize) else {
            return false;
        };
        self.incidents[idx]
            .evidence
            .iter()
            .any(|e| &e.report_id == id)
    }

    /// Records that the incident at `idx` took in report `id`.
    fn mark_seen(&mut self, id: &ReportId, hash: u64, idx: usize) {
        let slot = u32::try_from(idx).unwrap_or(u32::MAX);
        match self.seen.entry(hash) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(slot);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.seen_exact.insert(id.clone());
            }
        }
    }

    /// The current view of every standing incident, sorted by id.
    pub fn views(&self) -> Vec<IncidentView> {
        let mut v: Vec<IncidentView> = self
            .incidents
            .iter()
            .filter(|i| i.is_live())
            .map(|i| reconcile(i, &self.registry))
            .collect();
        v.sort_by(|a, b| a.incident_id.cmp(&b.incident_id));
        v
    }

    /// The current update of every incident that has published one, sorted by id: the latest
    /// version a subscriber holds per incident, rebuilt from the state (after a restore).
    /// Standing incidents carry their view; absorbed ones carry no view and the merge notice
    /// pointing at the survivor. `changes` and `caused_by` are empty: they describe a
    /// publication, which the state does not keep.
    pub fn current_updates(&self) -> Vec<Update> {
        let mut out: Vec<Update> = self
            .incidents
            .iter()
            .filter(|i| i.version > 0)
            .map(|i| {
                let (view, merge) = match &i.absorbed_into {
                    None => (Some(reconcile(i, &self.registry)), None),
                    Some(survivor) => (
                        None,
                        Some(MergeNotice::AbsorbedInto {
                            incident_id: survivor.clone(),
                        }),
                    ),
                };
                Update::new(i.id.clone(), i.version, view, vec![], vec![], merge)
            })
            .collect();
        out.sort_by(|a, b| a.incident_id.cmp(&b.incident_id));
        out
    }

    /// The current view of one incident, following merges.
    pub fn view(&self, id: &IncidentId) -> Option<IncidentView> {
        let idx = self.resolve(id)?;
        Some(reconcile(&self.incidents[idx], &self.registry))
    }

    /// Applies one report, as [`Engine::try_apply`] does; a refused report returns nothing.
    /// For tools whose input cannot be refused (tests, benchmarks).
    pub fn apply(&mut self, report: &Report) -> Vec<Update> {
        self.try_apply(report).unwrap_or_default()
    }

    /// Applies one report and renders the updates it causes, in publication order: absorbed
    /// incidents first (by id), then the incident the report joined. A report seen before
    /// returns nothing. A report whose incident is full
    /// ([`MAX_REPORTS_PER_INCIDENT`]), or that names an incident of another region, is
    /// refused and changes nothing; a merge that would overfill the surviving incident does
    /// not happen (the incidents stay apart).
    pub fn try_apply(&mut self, report: &Report) -> Result<Vec<Update>, Rejected> {
        self.fold_standard(report, true).map(Folded::into_updates)
    }

    /// Applies one report: links it, updates the state, and decides which incidents get a new
    /// version and which sections of their views changed. The views themselves are rendered
    /// only when [`Folded::into_updates`] is called, so a caller that needs the state and not
    /// the updates never pays for them. [`Folded`] borrows the engine, so the updates are
    /// always rendered from the state this report left.
    // Never inlined: a frame of its own that profilers count the fold by
    // (`scripts/fold-cost.sh`), which whole-program optimisation would otherwise fold away.
    #[inline(never)]
    pub fn fold<'a>(&'a mut self, report: &'a Report) -> Result<Folded<'a>, Rejected> {
        self.fold_standard(report, false)
    }

    /// The fold of the report under the gazetteer's standard names and the actor table's
    /// ids, when they know the report's; the updates name the report's own id.
    fn fold_standard<'a>(
        &'a mut self,
        report: &'a Report,
        render: bool,
    ) -> Result<Folded<'a>, Rejected> {
        // A report seen before changes nothing, under any names.
        let standardising = !self.places.is_empty() || !self.actors.is_empty();
        if standardising && !self.has_seen(&report.report_id) {
            let placed = standardise(&self.places, &mut self.interner, report);
            let named = self.actors.standardise(placed.as_ref().unwrap_or(report));
            if let Some(standard) = named.or(placed) {
                return self.fold_with(&standard, &report.report_id, render);
            }
        }
        self.fold_with(report, &report.report_id, render)
    }

    /// The fold; with `render`, the view of the incident the report joined is built here and
    /// its sections digested from it, since the update will carry it anyway.
    fn fold_with<'a>(
        &'a mut self,
        report: &Report,
        report_id: &'a ReportId,
        render: bool,
    ) -> Result<Folded<'a>, Rejected> {
        let id_hash = stable_hash(report.report_id.as_str());
        if self.seen_with(&report.report_id, id_hash) {
            return Ok(Folded::nothing(self, report_id));
        }
        let features = Features::of(report, &mut self.interner);
        let Placement {
            mut target,
            mut absorb,
            best,
        } = self.place(report, &features);
        // Only an explicit id can lead outside the report's region: candidates are scored
        // within it.
        let region = &self.incidents[target].profile.region;
        if report.incident.incident_id.is_some() && *region != *features.region {
            return Err(Rejected::OtherRegion {
                incident_id: self.incidents[target].id.clone(),
                region: region.to_string(),
                report_region: features.region.to_string(),
            });
        }
        let absorbed: usize = absorb
            .iter()
            .map(|i| self.incidents[*i].evidence.len())
            .sum();
        if self.incidents[target].evidence.len() + absorbed >= MAX_REPORTS_PER_INCIDENT {
            // The merge would leave the survivor too large: it does not happen, and the report
            // joins the incident it matched best, as when the incidents cannot merge.
            absorb.clear();
            target = best;
        }
        if self.incidents[target].evidence.len() >= MAX_REPORTS_PER_INCIDENT {
            return Err(Rejected::IncidentFull {
                incident_id: self.incidents[target].id.clone(),
                limit: MAX_REPORTS_PER_INCIDENT,
            });
        }
        let mut touched = Sections::default();
        self.superseded.clear();
        let added = self.incidents[target].add_report(
            report,
            &features,
            &mut self.interner,
            &mut touched,
            &mut self.superseded,
        );
        self.mark_seen(&report.report_id, id_hash, target);

        for &idx in &absorb {
            let mut other = (*self.incidents[idx]).clone();
            self.incidents[target].absorb(&mut other, &mut self.interner);
            other.version += 1;
            *self.incidents[idx] = other;
            self.register(idx, true);
        }
        // Only a change of names can change the place the window sketches. An incident whose
        // names and times the report left alone keeps its window and its days in the index.
        let renamed = touched.contains(Section::Location) || !absorb.is_empty();
        if renamed || added.window {
            self.register(target, renamed);
        }

        let inc = &mut self.incidents[target];
        // A merge changes anything, a new incident has no digest yet, and a restored one was
        // digested under a registry that may have changed: every section of those is digested.
        // Otherwise only the sections the report touched can have changed.
        // A newly named party may make earlier claims party claims.
        let reparty = added.named_party
            && party_claims_by_rule(inc, &self.registry, &report.report_id, &self.superseded);
        let whole = !absorb.is_empty()
            || inc.digest.is_empty()
            || self.stale[target]
            || added.regrouped
            || reparty;
        if whole {
            self.stale[target] = false;
            touched = all_sections(inc);
        }
        let mut fresh = std::mem::take(&mut self.fresh);
        fresh.clear();
        let view = if render {
            let view = reconcile(inc, &self.registry);
            view_section_hashes(&view, &self.registry, touched, &mut fresh);
            // The view's grade is not kept as a tally: the next report not rendered grades
            // the incident from its claims.
            inc.grade.forget();
            Some(view)
        } else {
            inc.grade = if whole {
                section_hashes(inc, &self.registry, touched, &mut fresh)
            } else {
                // The digest and grade are current as of the last report: casualty estimates
                // and the grade are brought up to date from them.
                let change = ReportChange {
                    report_id: &report.report_id,
                    superseded: &self.superseded,
                    only_new: added.only_new,
                };
                section_hashes_after(inc, &self.registry, touched, Some(&change), &mut fresh)
            };
            None
        };
        self.changed.clear();
        inc.digest.refresh(&fresh, &mut self.changed);
        self.fresh = fresh;
        let published = !self.changed.is_empty() || !absorb.is_empty();
        if published {
            inc.version += 1;
        }
        let engine: &Engine = self;
        Ok(Folded {
            engine,
            report_id,
            absorbed: absorb,
            target: published.then_some(target),
            changes: &engine.changed,
            view,
        })
    }
    /// Follows merge pointers to the incident that stands.
    fn resolve(&self, id: &IncidentId) -> Option<usize> {
        self.follow(*self.by_id.get(id)?)
    }

    /// Follows merge pointers from an incident index.
    fn follow(&self, mut idx: usize) -> Option<usize> {
        // Chains are short; the bound guards against a corrupt restored state.
        for _ in 0..64 {
            match &self.incidents[idx].absorbed_into {
                None => return Some(idx),
                Some(next) => idx = *self.by_id.get(next)?,
            }
        }
        None
    }

    fn place(&mut self, report: &Report, f: &Features) -> Placement {
        // The scratch lists are taken out of the engine while it is borrowed to score.
        let mut reach = std::mem::take(&mut self.reach);
        let mut scored = std::mem::take(&mut self.scored);
        self.candidates(f, &mut reach, &mut scored);
        let placement = self.choose(report, f, &scored);
        self.reach = reach;
        self.scored = scored;
        placement
    }

    /// Where a report goes, given the incidents it scored against.
    fn choose(&mut self, report: &Report, f: &Features, scored: &[(i32, usize)]) -> Placement {
        if let Some(explicit) = &report.incident.incident_id {
            let target = match self.resolve(explicit) {
                Some(i) => i,
                None => {
                    let inc = Incident::open(explicit.clone(), true, report, f);
                    self.insert(inc)
                }
            };
            let absorb = self.mergeable(target, scored);
            return Placement {
                target,
                absorb,
                best: target,
            };
        }
        let best = scored
            .iter()
            .filter(|(s, _)| *s >= LINK_THRESHOLD)
            .max_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| self.incidents[b.1].opened.cmp(&self.incidents[a.1].opened))
            });
        let Some(&(_, best)) = best else {
            let id = self.derive_id(report);
            let inc = Incident::open(id, false, report, f);
            let target = self.insert(inc);
            return Placement {
                target,
                absorb: Vec::new(),
                best: target,
            };
        };
        // The incidents the report shows to be one: the best, and the strong candidates that
        // can merge with it. Taking the earliest strong candidate instead sent a report to an
        // incident it matched less well when the two could not merge (a car bomb's report,
        // pinned at it, to a shooting at the place that day).
        let group = self.merge_group(best, scored);
        if group.len() == 1 {
            // Nothing to merge, the common case: no list is built.
            return Placement {
                target: best,
                absorb: Vec::new(),
                best,
            };
        }
        // Survivor of a merge: the explicit incident if there is one, else the earliest opened.
        let target = group
            .iter()
            .copied()
            .min_by(|a, b| {
                let (x, y) = (&self.incidents[*a], &self.incidents[*b]);
                y.explicit
                    .cmp(&x.explicit)
                    .then_with(|| x.opened.cmp(&y.opened))
            })
            .unwrap_or(best);
        let absorb = group
            .into_iter()
            .filter(|i| *i != target && !self.incidents[*i].explicit)
            .collect();
        Placement {
            target,
            absorb,
            best,
        }
    }

    /// The best candidate and, when it is strong, the other strong candidates compatible with
    /// it and with each other (taken by score, then id), at most one of them explicit:
    /// explicit incidents are never absorbed, so two cannot merge. Held inline: most reports
    /// have one strong candidate at most.
    fn merge_group(&self, best: usize, scored: &[(i32, usize)]) -> SmallVec<[usize; 4]> {
        let mut group: SmallVec<[usize; 4]> = SmallVec::new();
        group.push(best);
        if !scored
            .iter()
            .any(|(s, i)| *i == best && *s >= MERGE_THRESHOLD)
        {
            return group;
        }
        // The strongest first: of two explicit candidates, the one matched better is taken.
        let mut strong: SmallVec<[(i32, usize); 4]> = scored
            .iter()
            .filter(|(s, i)| *s >= MERGE_THRESHOLD && *i != best)
            .copied()
            .collect();
        strong.sort_by(|(s, a), (t, b)| {
            t.cmp(s)
                .then_with(|| self.incidents[*a].id.cmp(&self.incidents[*b].id))
        });
        let mut explicit = self.incidents[best].explicit;
        for (_, i) in strong {
            let cand = &self.incidents[i];
            if cand.explicit && explicit {
                continue;
            }
            if group
                .iter()
                .all(|g| compatible(&self.incidents[*g].profile, &cand.profile))
            {
                explicit |= cand.explicit;
                group.push(i);
            }
        }
        group
    }

    /// Strong candidates other than `target` that can be merged into it: not explicit, and
    /// compatible with it and with each other.
    fn mergeable(&self, target: usize, scored: &[(i32, usize)]) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut strong: Vec<usize> = scored
            .iter()
            .filter(|(s, i)| *s >= MERGE_THRESHOLD && *i != target)
            .map(|(_, i)| *i)
            .collect();
        strong.sort_by(|a, b| self.incidents[*a].id.cmp(&self.incidents[*b].id));
        for i in strong {
            let cand = &self.incidents[i];
            if cand.explicit {
                continue;
            }
            let fits = compatible(&self.incidents[target].profile, &cand.profile)
                && out
                    .iter()
                    .all(|o| compatible(&self.incidents[*o].profile, &cand.profile));
            if fits {
                out.push(i);
            }
        }
        out
    }

    /// Scores every standing incident the index can reach from the report's time window, into
    /// `scored`; `reach` is scratch.
    fn candidates(&self, f: &Features, reach: &mut Vec<u32>, scored: &mut Vec<(i32, usize)>) {
        reach.clear();
        scored.clear();
        let Some(region) = self.regions.get(&*f.region) else {
            return;
        };
        let w = f.precision.link_window_ms();
        let t = f.occurred_at.millis();
        let (lo, hi) = (
            day(t.saturating_sub(w).div_euclid(crate::core::model::DAY_MS)),
            day(t.saturating_add(w).div_euclid(crate::core::model::DAY_MS)),
        );
        for w in week(lo)..=week(hi) {
            if let Some(list) = self.index.get(&(*region, w)) {
                reach.extend(
                    list.iter()
                        .filter(|s| s.from <= hi && lo <= s.to)
                        .map(|s| s.incident),
                );
            }
        }
        if reach.is_empty() {
            return;
        }
        reach.sort_unstable();
        reach.dedup();
        let place = PlaceProbe::of(f);
        scored.extend(
            reach
                .iter()
                .map(|&i| i as usize)
                .filter(|i| self.windows[*i].admits(f, place.as_ref()))
                .filter_map(|i| score(&self.incidents[i].profile, f).map(|s| (s, i))),
        );
    }

    /// A deterministic id for an incident opened by `report`: country, event date and a hash
    /// of the opening report id, e.g. `iq-20170813-5f3a9c21b07d`.
    fn derive_id(&self, report: &Report) -> IncidentId {
        /// Appends the low `width` digits of `n` in base `radix`, zero-padded.
        fn digits(out: &mut String, n: u64, width: u32, radix: u32) {
            for i in (0..width).rev() {
                let d = (n / u64::from(radix).pow(i)) % u64::from(radix);
                // `d` is below `radix`, so it is a digit.
                out.push(char::from_digit(d as u32, radix).unwrap_or('0'));
            }
        }
        // Written in place rather than with `format!` and `Timestamp::compact_date`: this runs
        // for every new incident. The same text: `{country}-{YYYYMMDD}-{hash:012x}`.
        let mut base = String::with_capacity(32);
        base.extend(
            report
                .incident
                .location
                .country
                .as_str()
                .chars()
                .map(|c| c.to_ascii_lowercase()),
        );
        base.push('-');
        let secs = report.incident.occurred_at.millis().div_euclid(1000);
        match time::OffsetDateTime::from_unix_timestamp(secs) {
            // Years are 1900..=2100 by construction, so four digits hold them.
            Ok(dt) if (0..=9999).contains(&dt.year()) => {
                digits(&mut base, u64::from(dt.year().unsigned_abs()), 4, 10);
                digits(&mut base, u64::from(u8::from(dt.month())), 2, 10);
                digits(&mut base, u64::from(dt.day()), 2, 10);
            }
            _ => base.push_str(&report.incident.occurred_at.compact_date()),
        }
        base.push('-');
        digits(
            &mut base,
            stable_hash(report.report_id.as_str()) & 0xffff_ffff_ffff,
            12,
            16,
        );
        let mut n = 1;
        loop {
            let candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            // Only characters the id rules accept are used above, so parsing cannot fail.
            if let Ok(id) = IncidentId::parse(&candidate) {
                if !self.by_id.contains_key(&id) {
                    return id;
                }
            }
            n += 1;
        }
    }

    fn insert(&mut self, incident: Incident) -> usize {
        let idx = self.incidents.len();
        self.by_id.insert(incident.id.clone(), idx);
        let ids: Vec<ReportId> = incident
            .evidence
            .iter()
            .map(|e| e.report_id.clone())
            .collect();
        self.incidents.push(Box::new(incident));
        for id in &ids {
            self.mark_seen(id, stable_hash(id.as_str()), idx);
        }
        // Not standing yet: `register` files it in the index for its whole range.
        self.windows
            .push(Window::of(&self.incidents[idx].profile, false));
        self.stale.push(true);
        self.register(idx, false);
        idx
    }

    /// Registers an incident in the index for every day it can be found on, and keeps its
    /// window current; `renamed`: whether its names may have changed since the window was set.
    fn register(&mut self, idx: usize, renamed: bool) {
        let inc = &self.incidents[idx];
        let before = self.windows[idx];
        let now = if renamed {
            Window::of(&inc.profile, inc.is_live())
        } else {
            before.renewed(&inc.profile, inc.is_live())
        };
        self.windows[idx] = now;
        if !now.stands() {
            return;
        }
        let days = |w: Window| {
            let (lo, hi) = w.day_range();
            (day(lo), day(hi))
        };
        let (lo, hi) = days(now);
        // The range it is filed for: its window's when last registered. A range only widens,
        // and an incident that stood has stood ever since, so this is every day filed.
        let old = before.stands().then(|| days(before));
        // Most reports do not widen the range; the region was numbered at the first register.
        if old.is_some_and(|(a, b)| a <= lo && hi <= b) {
            return;
        }
        let region = match self.regions.get(&inc.profile.region) {
            Some(r) => *r,
            None => {
                let next = u32::try_from(self.regions.len()).unwrap_or(u32::MAX);
                self.regions.insert(inc.profile.region.clone(), next);
                next
            }
        };
        let incident = u32::try_from(idx).unwrap_or(u32::MAX);
        // The days not filed yet: the whole range, or what it gained on either side.
        let gained = match old {
            None => [Some((lo, hi)), None],
            Some((a, b)) => [(lo < a).then(|| (lo, a - 1)), (b < hi).then(|| (b + 1, hi))],
        };
        for (first, last) in gained.into_iter().flatten() {
            for w in week(first)..=week(last) {
                let days = w.saturating_mul(7)..=w.saturating_mul(7).saturating_add(6);
                self.index.entry((region, w)).or_default().push(Span {
                    from: first.max(*days.start()),
                    to: last.min(*days.end()),
                    incident,
                });
            }
        }
    }
}

/// Days of one week an incident is filed for in the linking index.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// The first day.
    from: i32,
    /// The last day (inclusive).
    to: i32,
    /// The incident.
    incident: u32,
}

/// The week of a day, the bucket of the linking index.
fn week(day: i32) -> i32 {
    day.div_euclid(7)
}

/// A day number of the linking index as `i32`. Event times lie in 1900..=2100 and link windows
/// span weeks, so every day fits; the clamp only keeps a corrupt value from wrapping.
fn day(d: i64) -> i32 {
    d.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}
