//! "Did you mean": the known field nearest to a misspelt one.

/// serde's wording, which the unknown-field hint always had.
pub(crate) fn expected_fields<'a>(known: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = known.into_iter().map(|name| format!("`{name}`")).collect();
    format!("expected one of {}", names.join(", "))
}

/// The known field within edit distance 2 of `name`, nearest first.
pub(crate) fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|known| (edit_distance(name, known), known))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, known)| known)
}

/// Levenshtein distance over chars, one row at a time.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_and_suggestions() {
        assert_eq!(edit_distance("treshold", "threshold"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("memroy_mb", "memory_mb"), 2);
        let alarm = ["name", "metric", "threshold", "period_s"];
        assert_eq!(closest("treshold", alarm), Some("threshold"));
        assert_eq!(closest("tag", ["name", "region", "tags"]), Some("tags"));
        assert_eq!(closest("webhook", ["webhook_url_env", "channel"]), None);
        assert_eq!(expected_fields(["a", "b"]), "expected one of `a`, `b`");
    }
}
