//! Interning: one shared allocation per distinct source, id or name an engine holds. The same
//! claimant appears in thousands of incidents; without interning each decoded report would keep
//! its own copy of every string alive in the state.

use std::collections::HashSet;
use std::sync::Arc;

use crate::core::model::{ActorId, Name, Source, SourceId};

/// The interning tables of one engine.
#[derive(Debug, Default)]
pub struct Interner {
    strings: HashSet<Arc<str>>,
    sources: HashSet<Arc<Source>>,
}

impl Interner {
    /// The shared copy of a text.
    pub fn text(&mut self, s: &Arc<str>) -> Arc<str> {
        match self.strings.get(s) {
            Some(shared) => shared.clone(),
            None => {
                self.strings.insert(s.clone());
                s.clone()
            }
        }
    }

    /// The shared copy of a source id.
    pub fn source_id(&mut self, id: &SourceId) -> SourceId {
        SourceId::from_arc(self.text(id.arc()))
    }

    /// The shared copy of an actor id.
    pub fn actor_id(&mut self, id: &ActorId) -> ActorId {
        ActorId::from_arc(self.text(id.arc()))
    }

    /// The shared copy of a name.
    pub fn name(&mut self, n: &Name) -> Name {
        Name::from_arc(self.text(n.arc()))
    }

    /// The shared copy of a source, its strings interned too.
    pub fn source(&mut self, s: &Source) -> Arc<Source> {
        if let Some(shared) = self.sources.get(s) {
            return shared.clone();
        }
        let interned = Arc::new(Source {
            id: self.source_id(&s.id),
            name: s.name.as_ref().map(|n| self.name(n)),
            kind: s.kind,
            affiliated_with: s.affiliated_with.as_ref().map(|a| self.source_id(a)),
        });
        self.sources.insert(interned.clone());
        interned
    }
}
