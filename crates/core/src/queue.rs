//! The outreach point's queue: tickets, ordered by the published priority rules, called,
//! served or marked no-show.
//!
//! Order: the green channel (urgent cases with their evidence seen) first, then the priority
//! categories by their rank in `priority.toml` (60 and over, infants, pregnant women,
//! disabled people…), then everyone else; first come, first served within a rank. So that the
//! ordinary queue still moves on a busy day, after `max_priority_in_a_row` priority calls an
//! ordinary ticket that has waited `ordinary_max_wait_minutes` is called next (a choice of
//! this project's, tagged [U] in the policy).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::policy::PriorityPolicy;
use crate::text::{Localize, Message};

/// The rank of a ticket with no priority.
pub const ORDINARY: u8 = u8::MAX;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum TicketState {
    Waiting,
    Called {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        counter: String,
        calls: u32,
    },
    Served {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    NoShow {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

/// One ticket. It names no person: a number, a service group and its priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// `A001`: the service group's letter and a number for the day.
    pub number: String,
    pub group: char,
    /// The priority categories declared when it was issued.
    pub categories: Vec<String>,
    pub urgent: bool,
    pub rank: u8,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// When a ticket marked no-show came back and was put in the queue again: it waits from
    /// then, behind those already waiting of its rank (it keeps its number and its priority).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub returned_at: Option<OffsetDateTime>,
    pub state: TicketState,
}

impl Ticket {
    /// Since when it has waited: its issue, or its return after a no-show.
    pub fn waits_since(&self) -> OffsetDateTime {
        self.returned_at.unwrap_or(self.issued_at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueError {
    UnknownCategory(String),
    /// A service group is one capital letter.
    BadGroup,
    NoSuchTicket(String),
    /// The ticket is not in a state that allows this (served twice, called after a no-show…).
    WrongState {
        number: String,
    },
    /// 999 tickets of one group in a day.
    Full,
}

impl Localize for QueueError {
    fn message(&self) -> Message {
        match self {
            QueueError::UnknownCategory(id) => Message::new("error.queue.unknown-category").with("id", id.as_str()),
            QueueError::BadGroup => Message::new("error.queue.bad-group"),
            QueueError::NoSuchTicket(n) => Message::new("error.queue.no-such-ticket").with("number", n.as_str()),
            QueueError::WrongState { number } => {
                Message::new("error.queue.wrong-state").with("number", number.as_str())
            }
            QueueError::Full => Message::new("error.queue.full"),
        }
    }
}

crate::localized_error!(QueueError);

/// One outreach point's queue for one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    tickets: Vec<Ticket>,
    /// Priority tickets called since the last ordinary one.
    priority_in_a_row: u32,
}

impl Queue {
    pub fn tickets(&self) -> &[Ticket] {
        &self.tickets
    }

    pub fn ticket(&self, number: &str) -> Option<&Ticket> {
        self.tickets.iter().find(|t| t.number == number)
    }

    /// How many are waiting (not yet called).
    pub fn waiting(&self) -> usize {
        self.tickets.iter().filter(|t| t.state == TicketState::Waiting).count()
    }

    /// How many waiting tickets come before ticket `number` by rank and time (what its printed
    /// ticket says; the rule that lets an overdue ordinary ticket in may still move it).
    pub fn ahead_of(&self, number: &str) -> usize {
        let Some(t) = self.ticket(number) else { return 0 };
        self.tickets
            .iter()
            .filter(|o| o.state == TicketState::Waiting && o.number != t.number)
            .filter(|o| (o.rank, o.waits_since()) < (t.rank, t.waits_since()))
            .count()
    }

    /// The waiting tickets in the order they would be called now (the rules above applied
    /// again after each), for the screen and the call board.
    pub fn call_order(&self, policy: &PriorityPolicy, now: OffsetDateTime) -> Vec<&Ticket> {
        let mut q = self.clone();
        let mut out = Vec::new();
        while let Some(next) = q.call_next("", policy, now) {
            if let Some(t) = self.ticket(&next.number) {
                out.push(t);
            }
        }
        out
    }

    /// Issues a ticket of service group `group` with the declared priority `categories`.
    pub fn issue(
        &mut self,
        group: char,
        categories: Vec<String>,
        urgent: bool,
        policy: &PriorityPolicy,
        now: OffsetDateTime,
    ) -> Result<&Ticket, QueueError> {
        if !group.is_ascii_uppercase() {
            return Err(QueueError::BadGroup);
        }
        let mut rank = ORDINARY;
        for id in &categories {
            let c = policy.category(id).ok_or_else(|| QueueError::UnknownCategory(id.clone()))?;
            rank = rank.min(c.queue_rank);
        }
        if urgent {
            rank = rank.min(policy.queue.urgent_rank);
        }
        let n = self.tickets.iter().filter(|t| t.group == group).count() + 1;
        if n > 999 {
            return Err(QueueError::Full);
        }
        self.tickets.push(Ticket {
            number: format!("{group}{n:03}"),
            group,
            categories,
            urgent,
            rank,
            issued_at: now,
            returned_at: None,
            state: TicketState::Waiting,
        });
        Ok(self.tickets.last().expect("just pushed"))
    }

    /// The ticket to call next, by the rules above.
    pub fn next(&self, policy: &PriorityPolicy, now: OffsetDateTime) -> Option<&Ticket> {
        let waiting = || self.tickets.iter().filter(|t| t.state == TicketState::Waiting);
        let best = waiting().min_by_key(|t| (t.rank, t.waits_since()))?;
        // The green channel is never held back.
        let green = best.urgent && best.rank <= policy.queue.urgent_rank;
        if !green && best.rank != ORDINARY && self.priority_in_a_row >= policy.queue.max_priority_in_a_row {
            let wait = Duration::minutes(i64::from(policy.queue.ordinary_max_wait_minutes));
            let overdue = waiting()
                .filter(|t| t.rank == ORDINARY && now - t.waits_since() >= wait)
                .min_by_key(|t| t.waits_since());
            if let Some(t) = overdue {
                return Some(t);
            }
        }
        Some(best)
    }

    /// Calls the next ticket to `counter`.
    pub fn call_next(&mut self, counter: &str, policy: &PriorityPolicy, now: OffsetDateTime) -> Option<Ticket> {
        let number = self.next(policy, now)?.number.clone();
        let t = self.tickets.iter_mut().find(|t| t.number == number)?;
        t.state = TicketState::Called { at: now, counter: counter.to_string(), calls: 1 };
        if t.rank == ORDINARY {
            self.priority_in_a_row = 0;
        } else {
            self.priority_in_a_row += 1;
        }
        Some(t.clone())
    }

    fn find_mut(&mut self, number: &str) -> Result<&mut Ticket, QueueError> {
        self.tickets.iter_mut().find(|t| t.number == number).ok_or_else(|| QueueError::NoSuchTicket(number.to_string()))
    }

    /// Calls a called ticket again; after the policy's number of calls it is a no-show.
    pub fn recall(
        &mut self,
        number: &str,
        policy: &PriorityPolicy,
        now: OffsetDateTime,
    ) -> Result<&Ticket, QueueError> {
        let limit = policy.queue.calls_before_no_show;
        let t = self.find_mut(number)?;
        let TicketState::Called { counter, calls, .. } = &t.state else {
            return Err(QueueError::WrongState { number: number.to_string() });
        };
        let calls = calls + 1;
        t.state = if calls > limit {
            TicketState::NoShow { at: now }
        } else {
            TicketState::Called { at: now, counter: counter.clone(), calls }
        };
        Ok(t)
    }

    pub fn served(&mut self, number: &str, now: OffsetDateTime) -> Result<&Ticket, QueueError> {
        let t = self.find_mut(number)?;
        if !matches!(t.state, TicketState::Called { .. }) {
            return Err(QueueError::WrongState { number: number.to_string() });
        }
        t.state = TicketState::Served { at: now };
        Ok(t)
    }

    /// A ticket marked no-show whose holder came back (过号): it waits again from `now`,
    /// behind those already waiting of its rank, with its number and its priority.
    pub fn returned(&mut self, number: &str, now: OffsetDateTime) -> Result<&Ticket, QueueError> {
        let t = self.find_mut(number)?;
        if !matches!(t.state, TicketState::NoShow { .. }) {
            return Err(QueueError::WrongState { number: number.to_string() });
        }
        t.state = TicketState::Waiting;
        t.returned_at = Some(now);
        Ok(t)
    }

    /// The tickets marked no-show, the latest first (those the desk can put back).
    pub fn absent(&self) -> Vec<&Ticket> {
        let mut out: Vec<&Ticket> =
            self.tickets.iter().filter(|t| matches!(t.state, TicketState::NoShow { .. })).collect();
        out.sort_by_key(|t| {
            std::cmp::Reverse(match t.state {
                TicketState::NoShow { at } => at,
                _ => t.issued_at,
            })
        });
        out
    }

    pub fn no_show(&mut self, number: &str, now: OffsetDateTime) -> Result<&Ticket, QueueError> {
        let t = self.find_mut(number)?;
        if !matches!(t.state, TicketState::Called { .. } | TicketState::Waiting) {
            return Err(QueueError::WrongState { number: number.to_string() });
        }
        t.state = TicketState::NoShow { at: now };
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySources;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-04 09:00 +8);

    fn policy() -> PriorityPolicy {
        PriorityPolicy::parse(PolicySources::BUILTIN.priority).unwrap()
    }

    fn at(minutes: i64) -> OffsetDateTime {
        T0 + Duration::minutes(minutes)
    }

    fn issue(q: &mut Queue, cats: &[&str], urgent: bool, minute: i64) -> String {
        let cats = cats.iter().map(|c| c.to_string()).collect();
        q.issue('A', cats, urgent, &policy(), at(minute)).unwrap().number.clone()
    }

    #[test]
    fn ahead_counts_the_waiting_called_before_and_call_order_follows_the_rules() {
        let p = policy();
        let mut q = Queue::default();
        let a1 = issue(&mut q, &[], false, 0);
        let a2 = issue(&mut q, &["elderly"], false, 1);
        let a3 = issue(&mut q, &[], false, 2);
        let a4 = issue(&mut q, &[], true, 3);
        // The urgent one first, then the elderly, then first come.
        assert_eq!(q.ahead_of(&a4), 0);
        assert_eq!(q.ahead_of(&a2), 1);
        assert_eq!(q.ahead_of(&a1), 2);
        assert_eq!(q.ahead_of(&a3), 3);
        assert_eq!(q.ahead_of("Z999"), 0);
        let order: Vec<&str> = q.call_order(&p, at(4)).iter().map(|t| t.number.as_str()).collect();
        assert_eq!(order, [a4.as_str(), a2.as_str(), a1.as_str(), a3.as_str()]);
        // Called tickets are neither waiting nor ahead of anyone.
        q.call_next("1", &p, at(5)).unwrap();
        assert_eq!(q.ahead_of(&a3), 2);
        assert_eq!(q.call_order(&p, at(5)).len(), 3);
        assert_eq!(q.tickets().len(), 4, "the order is worked out on a copy");
    }

    #[test]
    fn green_channel_then_priority_then_first_come() {
        let p = policy();
        let mut q = Queue::default();
        let a1 = issue(&mut q, &[], false, 0);
        let a2 = issue(&mut q, &["elderly"], false, 1);
        let a3 = issue(&mut q, &["disability"], false, 2);
        let a4 = issue(&mut q, &[], true, 3);
        let a5 = issue(&mut q, &["pregnancy"], false, 4);
        assert_eq!(q.waiting(), 5);
        let order: Vec<String> = (0..5).map(|i| q.call_next("1", &p, at(5 + i)).unwrap().number).collect();
        // Urgent first; then priority by arrival; the ordinary ticket after three priority
        // calls only once it has waited 30 minutes, which at 09:08 it has not.
        assert_eq!(order, [a4, a2, a3, a5, a1]);
        assert!(q.call_next("1", &p, at(20)).is_none());
    }

    #[test]
    fn the_ordinary_queue_still_moves() {
        let p = policy();
        let mut q = Queue::default();
        let ordinary = issue(&mut q, &[], false, 0);
        for m in 1..=5 {
            issue(&mut q, &["elderly"], false, m);
        }
        let calls: Vec<String> = (0..4).map(|i| q.call_next("1", &p, at(40 + i)).unwrap().number).collect();
        // Three priority calls in a row, then the ordinary ticket that has waited 40 minutes.
        assert_eq!(calls[3], ordinary);
        assert_eq!(calls[..3], ["A002", "A003", "A004"]);
    }

    #[test]
    fn the_green_channel_is_never_held_back() {
        let p = policy();
        let mut q = Queue::default();
        let ordinary = issue(&mut q, &[], false, 0);
        for m in 1..=3 {
            issue(&mut q, &["elderly"], false, m);
        }
        let priority: Vec<String> = (0..3).map(|i| q.call_next("1", &p, at(40 + i)).unwrap().number).collect();
        assert_eq!(priority, ["A002", "A003", "A004"]);
        // Three priority calls in a row and an overdue ordinary ticket: an urgent case still
        // goes first, then the ordinary ticket.
        let urgent = issue(&mut q, &[], true, 43);
        assert_eq!(q.call_next("1", &p, at(44)).unwrap().number, urgent);
        assert_eq!(q.call_next("1", &p, at(45)).unwrap().number, ordinary);
    }

    #[test]
    fn called_served_and_no_show() {
        let p = policy();
        let mut q = Queue::default();
        let n = issue(&mut q, &[], false, 0);
        assert_eq!(q.served(&n, at(1)), Err(QueueError::WrongState { number: n.clone() }));
        q.call_next("2", &p, at(1)).unwrap();
        for _ in 0..2 {
            assert!(matches!(q.recall(&n, &p, at(2)).unwrap().state, TicketState::Called { .. }));
        }
        // The fourth call: no-show.
        assert!(matches!(q.recall(&n, &p, at(3)).unwrap().state, TicketState::NoShow { .. }));
        assert_eq!(q.served(&n, at(4)), Err(QueueError::WrongState { number: n.clone() }));
        let m = issue(&mut q, &[], false, 5);
        q.call_next("2", &p, at(6)).unwrap();
        assert!(matches!(q.served(&m, at(7)).unwrap().state, TicketState::Served { .. }));
        assert_eq!(q.served("A999", at(8)), Err(QueueError::NoSuchTicket("A999".into())));
    }

    #[test]
    fn one_marked_absent_who_comes_back_waits_again_behind_those_of_their_rank() {
        let p = policy();
        // (categories of the one who comes back, minute of their return, the order expected
        // of the four waiting then: ordinary A002 and A003, elderly A004, and the returner A001)
        let cases: [(&[&str], i64, [&str; 4]); 3] = [
            // Ordinary, back at 09:10: behind the ordinary ones waiting since 09:02 and 09:03.
            (&[], 10, ["A004", "A002", "A003", "A001"]),
            // Elderly, back at 09:10: still before every ordinary ticket, behind the elderly one
            // waiting since 09:04.
            (&["elderly"], 10, ["A004", "A001", "A002", "A003"]),
            // Elderly, back at 09:03, before A004 was taken: first of the elderly.
            (&["elderly"], 3, ["A001", "A004", "A002", "A003"]),
        ];
        for (cats, back, want) in cases {
            let mut q = Queue::default();
            let a1 = issue(&mut q, cats, false, 0);
            q.call_next("1", &p, at(1)).unwrap();
            assert_eq!(q.returned(&a1, at(1)), Err(QueueError::WrongState { number: a1.clone() }), "called");
            q.no_show(&a1, at(1)).unwrap();
            issue(&mut q, &[], false, 2);
            issue(&mut q, &[], false, 3);
            issue(&mut q, &["elderly"], false, 4);
            assert_eq!(q.absent().iter().map(|t| t.number.as_str()).collect::<Vec<_>>(), [a1.as_str()]);
            let t = q.returned(&a1, at(back)).unwrap();
            assert_eq!((&t.state, t.returned_at, t.issued_at), (&TicketState::Waiting, Some(at(back)), at(0)));
            assert!(q.absent().is_empty());
            let order: Vec<&str> = q.call_order(&p, at(11)).iter().map(|t| t.number.as_str()).collect();
            assert_eq!(order, want, "{cats:?} back at {back}");
            assert_eq!(q.ahead_of(&a1), want.iter().position(|n| *n == a1).unwrap(), "{cats:?}");
        }
        // Only an absent ticket comes back; an unknown one is said.
        let mut q = Queue::default();
        let n = issue(&mut q, &[], false, 0);
        assert_eq!(q.returned(&n, at(1)), Err(QueueError::WrongState { number: n }));
        assert_eq!(q.returned("A999", at(1)), Err(QueueError::NoSuchTicket("A999".into())));
    }

    #[test]
    fn a_day_kept_before_returns_existed_still_reads() {
        let kept = r#"{"tickets":[{"number":"A001","group":"A","categories":[],"urgent":false,"rank":255,
            "issued_at":"2026-12-04T09:00:00+08:00","state":{"state":"waiting"}}],"priority_in_a_row":0}"#;
        let q: Queue = serde_json::from_str(kept).unwrap();
        assert_eq!(q.tickets()[0].returned_at, None);
        assert_eq!(q.tickets()[0].waits_since(), T0);
    }

    #[test]
    fn tickets_are_checked() {
        let mut q = Queue::default();
        assert_eq!(q.issue('a', vec![], false, &policy(), T0), Err(QueueError::BadGroup));
        assert_eq!(
            q.issue('A', vec!["vip".into()], false, &policy(), T0),
            Err(QueueError::UnknownCategory("vip".into()))
        );
        assert_eq!(q.issue('B', vec![], false, &policy(), T0).unwrap().number, "B001");
        assert_eq!(q.issue('B', vec![], false, &policy(), T0).unwrap().number, "B002");
    }
}
