//! The snippet of a search hit: a few words of the record around what matched, the matching
//! words marked. Made here rather than by FTS5's `snippet()`, which needs the query evaluated
//! once more, and evaluating a prefix over a million records (`bakk*` merges the lists of
//! every word it expands to) is most of a search's time; here the hit's own text is enough.
//! Words are cut and compared as the index's tokenizer (`unicode61 remove_diacritics 2`)
//! does: runs of letters and digits, compared without case or diacritics.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Markers of a match inside a snippet (private-use characters, never shown).
pub const OPEN: char = '\u{E000}';
pub const CLOSE: char = '\u{E001}';

/// Most words a snippet shows.
const WINDOW: usize = 12;

/// A word of a text: its bytes, and its form for comparing.
struct Token {
    start: usize,
    end: usize,
    folded: String,
}

/// `text` as compared: lower case, without diacritics.
fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

fn tokens(text: &str) -> Vec<Token> {
    let mut found = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
        let inside = c.is_alphanumeric() || is_combining_mark(c);
        match (start, inside) {
            (None, true) => start = Some(at),
            (Some(from), false) => {
                found.push(Token {
                    start: from,
                    end: at,
                    folded: fold(&text[from..at]),
                });
                start = None;
            }
            _ => {}
        }
    }
    found
}

/// Which of `tokens` a typed word matches. A word is a phrase of the tokens it holds
/// (`o'brien` is `o` then `brien`), its last token a prefix, as the search's query reads it.
fn marks(tokens: &[Token], phrases: &[Vec<String>]) -> Vec<bool> {
    let mut marked = vec![false; tokens.len()];
    for phrase in phrases.iter().filter(|p| !p.is_empty()) {
        for at in 0..=tokens.len().saturating_sub(phrase.len()) {
            let Some(run) = tokens.get(at..at + phrase.len()) else {
                continue;
            };
            let fits = run
                .iter()
                .zip(phrase)
                .enumerate()
                .all(|(k, (token, word))| {
                    if k + 1 == phrase.len() {
                        token.folded.starts_with(word.as_str())
                    } else {
                        token.folded == *word
                    }
                });
            if fits {
                marked[at..at + phrase.len()].fill(true);
            }
        }
    }
    marked
}

/// Where the window of [`WINDOW`] words starts: at the run holding the most matches (the first
/// of equals), moved back to put them in its middle.
fn window_start(marked: &[bool]) -> usize {
    if marked.len() <= WINDOW {
        return 0;
    }
    let count = |from: usize| marked[from..from + WINDOW].iter().filter(|m| **m).count();
    let mut best = 0;
    for from in 1..=marked.len() - WINDOW {
        if count(from) > count(best) {
            best = from;
        }
    }
    let inside = &marked[best..best + WINDOW];
    let (Some(first), Some(last)) = (
        inside.iter().position(|m| *m),
        inside.iter().rposition(|m| *m),
    ) else {
        return 0;
    };
    let spare = WINDOW - (last - first + 1);
    (best + first)
        .saturating_sub(spare / 2)
        .min(marked.len() - WINDOW)
}

/// The snippet of a hit whose indexed texts are `columns`, for the words `typed`: from the
/// text with the most matching words, up to [`WINDOW`] words around them, each match between
/// [`OPEN`] and [`CLOSE`], `…` where words were left out.
pub fn snippet(columns: &[&str], typed: &[String]) -> String {
    let phrases: Vec<Vec<String>> = typed
        .iter()
        .map(|word| tokens(word).into_iter().map(|t| t.folded).collect())
        .collect();
    let mut best: Option<(&str, Vec<Token>, Vec<bool>, usize)> = None;
    for text in columns {
        let words = tokens(text);
        let marked = marks(&words, &phrases);
        let hits = marked.iter().filter(|m| **m).count();
        let better = match &best {
            None => !words.is_empty(),
            Some((_, _, _, most)) => hits > *most,
        };
        if better {
            best = Some((text, words, marked, hits));
        }
    }
    let Some((text, words, marked, _)) = best else {
        return String::new();
    };
    let from = window_start(&marked);
    let to = (from + WINDOW).min(words.len());
    let mut out = String::new();
    let mut at = if from == 0 {
        0
    } else {
        out.push('…');
        words[from].start
    };
    for (word, matched) in words[from..to].iter().zip(&marked[from..to]) {
        out.push_str(&text[at..word.start]);
        if *matched {
            out.push(OPEN);
            out.push_str(&text[word.start..word.end]);
            out.push(CLOSE);
        } else {
            out.push_str(&text[word.start..word.end]);
        }
        at = word.end;
    }
    if to == words.len() {
        out.push_str(&text[at..]);
    } else {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{CLOSE, OPEN, snippet};

    fn shown(columns: &[&str], typed: &str) -> String {
        let typed: Vec<String> = typed.split_whitespace().map(str::to_owned).collect();
        snippet(columns, &typed)
            .replace(OPEN, "[")
            .replace(CLOSE, "]")
    }

    #[test]
    fn whole_words_that_begin_with_a_typed_word_are_marked() {
        assert_eq!(shown(&["Ada", "Lovelace", "", ""], "lov"), "[Lovelace]");
        assert_eq!(shown(&["Ada", "Lovelace"], "ada lov"), "[Ada]");
        assert_eq!(
            shown(&["[\"ada.lovelace@example.com\"]"], "LOVE exa"),
            "[\"ada.[lovelace]@[example].com\"]"
        );
        assert_eq!(
            shown(&["Canada trip"], "ada"),
            "Canada trip",
            "never inside a word"
        );
    }

    #[test]
    fn case_and_diacritics_are_ignored_as_the_index_ignores_them() {
        assert_eq!(shown(&["Zoë Ångström"], "zoe ang"), "[Zoë] [Ångström]");
        assert_eq!(shown(&["Müller GmbH"], "MÜL"), "[Müller] GmbH");
    }

    #[test]
    fn a_word_with_inner_punctuation_is_a_phrase() {
        assert_eq!(
            shown(&["Pat O'Brien, of Obrist"], "o'bri"),
            "Pat [O]'[Brien], of Obrist"
        );
    }

    #[test]
    fn a_long_text_is_cut_around_its_matches() {
        let body = "one two three four five six seven eight nine ten eleven twelve thirteen \
                    fourteen fifteen sixteen engine seventeen eighteen nineteen twenty";
        assert_eq!(
            shown(&["Met", body], "engine"),
            "…ten eleven twelve thirteen fourteen fifteen sixteen [engine] seventeen eighteen \
             nineteen twenty"
        );
        assert_eq!(
            shown(
                &["alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi"],
                "alp"
            ),
            "[alpha] beta gamma delta epsilon zeta eta theta iota kappa lambda mu…"
        );
    }
}
