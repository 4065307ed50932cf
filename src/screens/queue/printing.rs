//! What the desk says once a ticket's print ends: of the ticket issued last, under its number;
//! of another, a ticket printed again or one that did not print (listed, to tell its number
//! and print it again), and the paper near its end.

use super::QueueDesk;
use crate::ui::i18n::{Arg, Tr};

/// What the desk says of something done, and whether it warns (the paper near its end: said in
/// the warning's colour, not the good news').
#[derive(Debug, Clone, PartialEq)]
pub struct News {
    pub words: Tr,
    pub warns: bool,
}

impl News {
    /// Good news: said in its colour.
    pub fn good(words: Tr) -> News {
        News { words, warns: false }
    }
}

/// Ticket `number`'s print ended with `r` (printed, and whether the paper is near its end; or
/// why not); `again`: it was printed again from the desk.
pub(super) fn done(desk: &mut QueueDesk, number: String, again: bool, r: Result<bool, Arg>) {
    if desk.issued.as_ref().is_some_and(|(n, _)| *n == number) {
        desk.printed = Some(r);
        return;
    }
    match r {
        // A ticket printed again: said, as the one issued is, with the paper near its end if
        // it is (a warning, in its colour).
        Ok(low) if again => {
            let key = if low { "queue.reprinted_paper_low" } else { "queue.reprinted" };
            desk.news = Some(News { words: Tr::new(key).with("number", &number), warns: low });
        }
        // The paper near its end, after any ticket.
        Ok(true) => desk.news = Some(News { words: Tr::new("queue.paper_low"), warns: true }),
        // One issued before the last and printed once says nothing (issued back to back, the
        // first ends after the second).
        Ok(false) => {}
        Err(why) => {
            desk.not_printed.retain(|(n, _)| *n != number);
            desk.not_printed.push((number, why));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_desk_says_when_a_ticket_has_printed() {
        let paper = || Arg::Key("device.paper_out");
        let issued = |n: &str| QueueDesk { issued: Some((n.to_string(), 0)), ..QueueDesk::default() };
        type Said = (Option<Result<bool, Arg>>, Option<News>, Vec<(String, Arg)>);
        let news = |words: Tr, warns: bool| Some(News { words, warns });
        let cases: Vec<(&str, bool, Result<bool, Arg>, Said)> = vec![
            // The one issued last: said under its number, whatever it was.
            ("A002", false, Ok(false), (Some(Ok(false)), None, vec![])),
            ("A002", true, Err(paper()), (Some(Err(paper())), None, vec![])),
            // One issued before it, printed once: nothing said (not "printed again").
            ("A001", false, Ok(false), (None, None, vec![])),
            ("A001", false, Ok(true), (None, news(Tr::new("queue.paper_low"), true), vec![])),
            // Printed again: said, and with the paper near its end if it is, as a warning.
            ("A001", true, Ok(false), (None, news(Tr::new("queue.reprinted").with("number", "A001"), false), vec![])),
            (
                "A001",
                true,
                Ok(true),
                (None, news(Tr::new("queue.reprinted_paper_low").with("number", "A001"), true), vec![]),
            ),
            ("A001", false, Err(paper()), (None, None, vec![("A001".to_string(), paper())])),
        ];
        for (number, again, r, want) in cases {
            let mut desk = issued("A002");
            let what = format!("{number} again={again} {r:?}");
            done(&mut desk, number.to_string(), again, r);
            assert_eq!((desk.printed, desk.news, desk.not_printed), want, "{what}");
        }
        // A ticket that fails again is listed once.
        let mut desk = issued("A002");
        desk.not_printed.push(("A001".into(), paper()));
        done(&mut desk, "A001".into(), true, Err(Arg::Key("device.timeout")));
        assert_eq!(desk.not_printed, vec![("A001".to_string(), Arg::Key("device.timeout"))]);
    }
}
