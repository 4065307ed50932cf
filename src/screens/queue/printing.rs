//! What the desk says once a ticket's print ends: of the ticket issued last, under its number;
//! of another, a ticket printed again or one that did not print (listed, to tell its number
//! and print it again), and the paper near its end.

use super::QueueDesk;
use crate::ui::i18n::{Arg, Tr};

/// Ticket `number`'s print ended with `r` (printed, and whether the paper is near its end; or
/// why not); `again`: it was printed again from the desk.
pub(super) fn done(desk: &mut QueueDesk, number: String, again: bool, r: Result<bool, Arg>) {
    if desk.issued.as_ref().is_some_and(|(n, _)| *n == number) {
        desk.printed = Some(r);
        return;
    }
    match r {
        // The paper near its end, after any ticket.
        Ok(true) => desk.news = Some(Tr::new("queue.paper_low")),
        // A ticket printed again: said, as the one issued is. One issued before the last and
        // printed once says nothing (issued back to back, the first ends after the second).
        Ok(false) if again => desk.news = Some(Tr::new("queue.reprinted").with("number", &number)),
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
        type Said = (Option<Result<bool, Arg>>, Option<Tr>, Vec<(String, Arg)>);
        let cases: Vec<(&str, bool, Result<bool, Arg>, Said)> = vec![
            // The one issued last: said under its number, whatever it was.
            ("A002", false, Ok(false), (Some(Ok(false)), None, vec![])),
            ("A002", true, Err(paper()), (Some(Err(paper())), None, vec![])),
            // One issued before it, printed once: nothing said (not "printed again").
            ("A001", false, Ok(false), (None, None, vec![])),
            ("A001", false, Ok(true), (None, Some(Tr::new("queue.paper_low")), vec![])),
            ("A001", true, Ok(false), (None, Some(Tr::new("queue.reprinted").with("number", "A001")), vec![])),
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
