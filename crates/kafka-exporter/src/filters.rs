//! Which topics and consumer groups are exported: those a regular expression matches, less
//! those an exclusion matches. Matching is unanchored, as `kafka_exporter`'s filters match.

use regex::Regex;

#[derive(Clone, Debug)]
pub struct Filters {
    pub topics: Regex,
    pub topics_excluded: Option<Regex>,
    pub groups: Regex,
    pub groups_excluded: Option<Regex>,
}

impl Filters {
    pub fn topic(&self, name: &str) -> bool {
        admits(&self.topics, self.topics_excluded.as_ref(), name)
    }

    pub fn group(&self, name: &str) -> bool {
        admits(&self.groups, self.groups_excluded.as_ref(), name)
    }
}

fn admits(included: &Regex, excluded: Option<&Regex>, name: &str) -> bool {
    included.is_match(name) && !excluded.is_some_and(|excluded| excluded.is_match(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_must_match_and_not_be_excluded() {
        let filters = Filters {
            topics: Regex::new("orders").unwrap(),
            topics_excluded: Some(Regex::new("^orders-dlq$").unwrap()),
            groups: Regex::new(".*").unwrap(),
            groups_excluded: None,
        };
        assert!(filters.topic("orders"));
        assert!(filters.topic("eu-orders"));
        assert!(!filters.topic("orders-dlq"));
        assert!(!filters.topic("payments"));
        assert!(filters.group("anything"));
    }
}
