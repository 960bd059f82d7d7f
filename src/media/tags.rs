//! What a file says about itself (language tags, titles) is hostile input:
//! a tag may be `x/../../etc` or carry HTML. Every piece of a file name
//! taken from inside a file goes through [`name_part`], and nothing else.

/// Longest piece of a name a tag may give.
pub const MAX_PART: usize = 16;

/// A tag as a piece of a file name: lowercased, and only when it is
/// 1–16 of `[a-z0-9-]`; anything else becomes the stream's number
/// (`sub2` for a subtitle stream 2), so a name never depends on what a
/// hostile tag says.
pub fn name_part(tag: &str, prefix: &str, stream: u32) -> String {
    let lower = tag.to_ascii_lowercase();
    let safe = (1..=MAX_PART).contains(&lower.len())
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if safe {
        lower
    } else {
        format!("{prefix}{stream}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_languages_are_kept_and_anything_else_is_numbered() {
        for (tag, want) in [
            ("eng", "eng"),
            ("ENG", "eng"),
            ("pt-BR", "pt-br"),
            ("x/../../etc", "sub2"),
            ("..", "sub2"),
            ("html.<img src=x onerror=alert(1)>", "sub2"),
            ("", "sub2"),
            ("en\0", "sub2"),
            ("deutsch-schweiz-x", "sub2"),
            ("deutsch-schweiz", "deutsch-schweiz"),
            ("ελληνικά", "sub2"),
            ("en.2", "sub2"),
            ("a b", "sub2"),
        ] {
            assert_eq!(name_part(tag, "sub", 2), want, "{tag:?}");
        }
    }
}
