//! The gate of the hub's connections (SECURITY R25): how many are open, in all and from each
//! peer address, and, when every place is taken, which one a newcomer takes the place of. A
//! connection not proven an enrolled tablet's may be told to close for a newcomer: one that
//! has sent nothing yet first (a tablet sends its ClientHello at once), else the oldest of the
//! address holding the most such places, so a flood that keeps coming takes its own places
//! and not those of a tablet still in its handshake. A proven one is never told, up to
//! `Caps::protected_per_device` of one device. An "address" here is a `network`: an IPv6
//! peer is counted by its /64, which one subscriber holds whole, so its 2^64 addresses are
//! one for the caps and the choice of whom to close.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, oneshot};

use super::conn::Caps;

/// What the gate counts a peer address as: an IPv4 address as itself (a carrier's NAT puts
/// many tablets behind one, which `Caps::per_ip` allows for), an IPv6 address as its /64 (the
/// least a subscriber or a host is given, so one attacker may use every address in it), and
/// an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, a dual-stack socket's IPv4 peer) as the
/// IPv4 address.
pub(super) fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !(u128::MAX >> 64))),
        },
    }
}

/// Connections open now, in all and by peer address, and which of them a newcomer may take
/// the place of.
pub(super) struct Gate {
    caps: Caps,
    places: Mutex<Places>,
    /// Told each time a connection gives its place back.
    pub(super) freed: Notify,
}

#[derive(Default)]
struct Places {
    open: usize,
    /// By `network`.
    by_ip: HashMap<IpAddr, usize>,
    /// The number the next connection gets: the order of arrival.
    next: u64,
    /// Connections not proven to be an enrolled tablet's, oldest first.
    unproven: BTreeMap<u64, Unproven>,
    /// The same connections by `network`: those that have sent nothing yet, and the others.
    pending: HashMap<IpAddr, Pending>,
    /// Connections told to close for a newcomer whose places are not given back yet.
    closing: HashSet<u64>,
    /// Proven connections (never closed for a newcomer) by enrolled device.
    protected: HashMap<String, usize>,
    /// Connections closed for newcomers since the hub started.
    evicted: u64,
}

/// A connection not proven an enrolled tablet's.
struct Unproven {
    /// The peer's address, for the log.
    ip: IpAddr,
    /// Its `network`, the key of `Places::pending`.
    net: IpAddr,
    /// The way to tell it to close.
    tell: oneshot::Sender<()>,
    /// Whether a byte of it has arrived (its ClientHello's).
    spoke: bool,
}

/// One `network`'s unproven connections, by arrival.
#[derive(Default)]
struct Pending {
    silent: BTreeSet<u64>,
    spoke: BTreeSet<u64>,
}

impl Places {
    fn add_unproven(&mut self, id: u64, ip: IpAddr, tell: oneshot::Sender<()>) {
        let net = network(ip);
        self.unproven.insert(id, Unproven { ip, net, tell, spoke: false });
        self.pending.entry(net).or_default().silent.insert(id);
    }

    fn take_unproven(&mut self, id: u64) -> Option<Unproven> {
        let u = self.unproven.remove(&id)?;
        if let Some(p) = self.pending.get_mut(&u.net) {
            if u.spoke {
                p.spoke.remove(&id)
            } else {
                p.silent.remove(&id)
            };
            if p.silent.is_empty() && p.spoke.is_empty() {
                self.pending.remove(&u.net);
            }
        }
        Some(u)
    }

    /// A byte of connection `id` has arrived.
    fn spoke(&mut self, id: u64) {
        let Some(u) = self.unproven.get_mut(&id) else { return };
        if std::mem::replace(&mut u.spoke, true) {
            return;
        }
        if let Some(p) = self.pending.get_mut(&u.net) {
            p.silent.remove(&id);
            p.spoke.insert(id);
        }
    }

    /// The unproven connection to close for a newcomer: among those that have sent nothing
    /// when there are any (else among all), the oldest of the `network` that holds the most of
    /// them (the oldest such connection's address when several hold as many).
    fn victim(&self) -> Option<u64> {
        let any_silent = self.pending.values().any(|p| !p.silent.is_empty());
        self.pending
            .values()
            .map(|p| if any_silent { &p.silent } else { &p.spoke })
            .filter_map(|ids| Some((ids.len(), std::cmp::Reverse(*ids.first()?))))
            .max()
            .map(|(_, oldest)| oldest.0)
    }
}

/// A connection's place at the gate, given back when it closes.
pub(super) struct Ticket {
    gate: Arc<Gate>,
    /// The peer's address.
    ip: IpAddr,
    /// Its `network`, the key of `Places::by_ip`.
    net: IpAddr,
    id: u64,
    /// Whether the connection is to close for a newcomer.
    word: Word,
    /// The enrolled device whose proven connection this is.
    device: Option<String>,
}

/// What a connection has heard from the gate. The receiver is awaited only while `Waiting`,
/// so `evicted` may be awaited again after it resolved or was cut short (a tokio receiver
/// panics when polled after it completed).
#[derive(Debug)]
enum Word {
    /// It may still be told to close: the word comes on this receiver (closed, wordless, once
    /// the connection is proven).
    Waiting(oneshot::Receiver<()>),
    /// Told to close.
    Told,
    /// Proven: never told.
    Kept,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut places = self.gate.places.lock().unwrap_or_else(|e| e.into_inner());
        places.open = places.open.saturating_sub(1);
        release(&mut places.by_ip, &self.net);
        places.take_unproven(self.id);
        places.closing.remove(&self.id);
        if let Some(device) = &self.device {
            release(&mut places.protected, device);
        }
        drop(places);
        self.gate.freed.notify_one();
    }
}

/// Gives back one of `key`'s places in a count, forgetting the key at none.
fn release<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

/// What became of a connection found to be an enrolled device's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Proof {
    /// Never closed for a newcomer.
    Kept,
    /// The device already has as many kept connections as it may: this one may still be
    /// closed for a newcomer.
    PastCap,
    /// It was told to close before this: it should close now.
    Told,
}

impl Ticket {
    /// The connection is enrolled `device`'s: never closed for a newcomer, unless the device
    /// already has `Caps::protected_per_device` such connections.
    pub(super) fn prove(&mut self, device: &str) -> Proof {
        let mut places = self.gate.places.lock().unwrap_or_else(|e| e.into_inner());
        if self.device.is_some() {
            return Proof::Kept;
        }
        if !places.unproven.contains_key(&self.id) {
            return Proof::Told;
        }
        let kept = places.protected.get(device).copied().unwrap_or(0);
        if kept >= self.gate.caps.protected_per_device {
            return Proof::PastCap;
        }
        places.take_unproven(self.id);
        *places.protected.entry(device.to_string()).or_default() += 1;
        self.device = Some(device.to_string());
        self.word = Word::Kept;
        Proof::Kept
    }

    /// Resolves when the connection is told to close for a newcomer (at once, each time, once
    /// it was); never once it is proven.
    /// What tells the gate that a byte of this connection has arrived, to be called while the
    /// ticket itself is borrowed (by `evicted`).
    pub(super) fn on_first_byte(&self) -> impl FnOnce() + Send + 'static {
        let (gate, id) = (self.gate.clone(), self.id);
        move || gate.spoke(id)
    }

    pub(super) async fn evicted(&mut self) {
        if let Word::Waiting(told) = &mut self.word {
            // An error: the word's sender dropped without one, which it does when proven.
            let word = told.await;
            self.word = if word.is_ok() { Word::Told } else { Word::Kept };
        }
        if matches!(self.word, Word::Kept) {
            std::future::pending::<()>().await;
        }
    }
}

/// What the gate says to a new connection.
#[derive(Debug)]
pub(super) enum Admission {
    /// In, with its place.
    In(Ticket),
    /// Every place is taken: wait for one to be given back. `Some` when an unproven
    /// connection was told to close for this one (its address, and how many so far).
    Wait(Option<(IpAddr, u64)>),
    /// Refused: the reason's code.
    Refused(&'static str),
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ticket({}, {})", self.id, self.ip)
    }
}

impl Gate {
    pub(super) fn new(caps: Caps) -> Gate {
        Gate { caps, places: Mutex::new(Places::default()), freed: Notify::new() }
    }

    /// A place for a connection from `ip` (counted by its `network`); when all are taken, an unproven connection (see
    /// `Places::victim`) is told to close (one at a time: none is told while another has not
    /// closed yet), and only when every place is held by a proven connection is the newcomer
    /// refused.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> Admission {
        let mut places = self.places.lock().unwrap_or_else(|e| e.into_inner());
        let net = network(ip);
        if places.by_ip.get(&net).copied().unwrap_or(0) >= self.caps.per_ip {
            return Admission::Refused("per-ip-limit");
        }
        if places.open >= self.caps.total {
            if !places.closing.is_empty() {
                return Admission::Wait(None);
            }
            let Some(victim) = places.victim().and_then(|id| Some((id, places.take_unproven(id)?))) else {
                return Admission::Refused("connection-limit");
            };
            let (id, Unproven { ip: from, tell, .. }) = victim;
            let _ = tell.send(());
            places.closing.insert(id);
            places.evicted += 1;
            return Admission::Wait(Some((from, places.evicted)));
        }
        *places.by_ip.entry(net).or_default() += 1;
        places.open += 1;
        let id = places.next;
        places.next += 1;
        let (tell, told) = oneshot::channel();
        places.add_unproven(id, ip, tell);
        Admission::In(Ticket { gate: self.clone(), ip, net, id, word: Word::Waiting(told), device: None })
    }

    /// A byte of connection `id` has arrived: it is closed for a newcomer only when every
    /// unproven connection has sent one.
    fn spoke(&self, id: u64) {
        self.places.lock().unwrap_or_else(|e| e.into_inner()).spoke(id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn caps(total: usize, per_ip: usize) -> Caps {
        let second = Duration::from_secs(1);
        Caps { handshake: second, header: second, body: second, total, per_ip, protected_per_device: 2 }
    }

    fn admitted(admission: Admission) -> Ticket {
        match admission {
            Admission::In(ticket) => ticket,
            other => panic!("not admitted: {other:?}"),
        }
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn the_gate_caps_connections_in_all_and_per_address_and_gives_places_back() {
        let gate = Arc::new(Gate::new(caps(3, 2)));
        let (a, b) = (ip(1), ip(2));
        let mut first = admitted(gate.admit(a));
        let mut second = admitted(gate.admit(a));
        assert!(matches!(gate.admit(a), Admission::Refused("per-ip-limit")));
        let mut third = admitted(gate.admit(b));
        for (n, t) in [&mut first, &mut second, &mut third].into_iter().enumerate() {
            assert_eq!(t.prove(&format!("tablet-{n}")), Proof::Kept);
        }
        assert!(matches!(gate.admit(b), Admission::Refused("connection-limit")), "every place is proven");
        drop(first);
        let _again = admitted(gate.admit(a));
        assert_eq!(gate.places.lock().unwrap().open, 3);
    }

    /// R25: with every place taken, a newcomer takes the place of a connection not proven an
    /// enrolled tablet's (here each address holds one, none has sent a byte: the oldest), one
    /// at a time; a proven one is never told to close.
    #[test]
    fn a_peer_is_counted_by_its_ipv4_address_or_its_ipv6_64() {
        let net = |s: &str| network(s.parse().unwrap());
        let cases = [
            // (address, its network)
            ("192.0.2.7", "192.0.2.7"),
            ("10.0.0.1", "10.0.0.1"),
            ("2001:db8:1:2::1", "2001:db8:1:2::"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
            ("2001:db8:1:3::1", "2001:db8:1:3::"),
            ("::1", "::"),
            ("fe80::1:2:3:4", "fe80::"),
            ("::ffff:192.0.2.7", "192.0.2.7"),
            ("::ffff:10.0.0.1", "10.0.0.1"),
        ];
        for (address, expected) in cases {
            assert_eq!(net(address), expected.parse::<IpAddr>().unwrap(), "{address}");
        }
        assert_eq!(net("2001:db8:1:2::1"), net("2001:db8:1:2:abcd::9"), "one /64: one network");
        assert_ne!(net("2001:db8:1:2::1"), net("2001:db8:1:3::1"), "another /64: another network");
        assert_ne!(net("192.0.2.7"), net("192.0.2.8"), "IPv4 is kept per address");
    }

    #[test]
    fn two_addresses_of_one_ipv6_64_share_one_per_address_cap() {
        let gate = Arc::new(Gate::new(caps(10, 1)));
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other_of_the_same_64: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let _first = admitted(gate.admit(one));
        assert!(matches!(gate.admit(other_of_the_same_64), Admission::Refused("per-ip-limit")), "the same /64");
        let _next_64 = admitted(gate.admit("2001:db8:1:3::1".parse().unwrap()));
        let _mapped = admitted(gate.admit("::ffff:192.0.2.1".parse().unwrap()));
        assert!(matches!(gate.admit(ip(1)), Admission::Refused("per-ip-limit")), "IPv4-mapped is the IPv4");
    }

    #[test]
    fn the_addresses_of_one_ipv6_64_are_one_holder_when_choosing_whom_to_close() {
        let gate = Arc::new(Gate::new(caps(3, 10)));
        let _oldest = admitted(gate.admit(ip(2)));
        let first: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let _a = admitted(gate.admit(first));
        let _b = admitted(gate.admit("2001:db8:1:2::2".parse().unwrap()));
        match gate.admit(ip(4)) {
            Admission::Wait(Some((from, 1))) => {
                assert_eq!(from, first, "the /64 holds the most: its oldest, by its own address")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_full_gate_closes_the_oldest_unproven_connection_for_a_newcomer_never_a_proven_one_r25() {
        let gate = Arc::new(Gate::new(caps(3, 3)));
        let mut tablet = admitted(gate.admit(ip(1)));
        let mut oldest = admitted(gate.admit(ip(2)));
        let mut newer = admitted(gate.admit(ip(3)));
        assert_eq!(
            tablet.prove("tablet-1"),
            Proof::Kept,
            "the first connection finished its handshake as an enrolled tablet"
        );

        match gate.admit(ip(4)) {
            Admission::Wait(Some((from, 1))) => assert_eq!(from, ip(2), "the oldest unproven one"),
            other => panic!("{other:?}"),
        }
        assert!(told(&mut oldest), "the oldest unproven connection is told to close");
        assert!(!told(&mut newer) && !told(&mut tablet), "and no other");
        assert!(matches!(gate.admit(ip(4)), Admission::Wait(None)), "none more until it has closed");
        assert!(!told(&mut newer));
        assert_eq!(oldest.prove("tablet-2"), Proof::Told, "told to close before its handshake ended: it stays told");
        drop(oldest);
        let mut fourth = admitted(gate.admit(ip(4)));

        match gate.admit(ip(5)) {
            Admission::Wait(Some((from, 2))) => assert_eq!(from, ip(3)),
            other => panic!("{other:?}"),
        }
        assert!(told(&mut newer));
        drop(newer);
        let mut fifth = admitted(gate.admit(ip(5)));
        assert_eq!((fourth.prove("tablet-4"), fifth.prove("tablet-5")), (Proof::Kept, Proof::Kept));
        assert!(matches!(gate.admit(ip(6)), Admission::Refused("connection-limit")), "all proven: refused");
        assert!(
            !told(&mut tablet) && matches!(tablet.word, Word::Kept),
            "the tablet's connection was never told to close"
        );
        let places = gate.places.lock().unwrap();
        assert_eq!((places.open, places.evicted, places.unproven.len(), places.closing.len()), (3, 2, 0, 0));
        assert!(places.pending.is_empty(), "nothing left of the unproven by address");
    }

    /// Whether `ticket` has been told to close for a newcomer.
    fn told(ticket: &mut Ticket) -> bool {
        if let Word::Waiting(word) = &mut ticket.word
            && word.try_recv().is_ok()
        {
            ticket.word = Word::Told;
        }
        matches!(ticket.word, Word::Told)
    }

    /// R25 under a sustained flood (review 2, S7): newcomers from other addresses keep
    /// arriving at a full gate, ten times as many as it has places, while a tablet's connection
    /// is still in its handshake; each takes the place of a flood connection, never the tablet's.
    #[test]
    fn a_sustained_flood_from_other_addresses_never_evicts_a_tablet_mid_handshake_r25() {
        let n = 8;
        let gate = Arc::new(Gate::new(caps(n, n)));
        let flooder = |k: usize| ip(20 + (k % 3) as u8);
        let mut flood: Vec<Ticket> = (0..n).map(|k| admitted(gate.admit(flooder(k)))).collect();
        // The tablet arrives: a flood connection is told to close, closes, the tablet gets in.
        assert!(matches!(gate.admit(ip(1)), Admission::Wait(Some((from, 1))) if from != ip(1)));
        let gone = flood.iter_mut().position(told).expect("a flood connection was told");
        drop(flood.remove(gone));
        let mut tablet = admitted(gate.admit(ip(1)));
        for k in 0..10 * n {
            match gate.admit(flooder(k)) {
                Admission::Wait(Some((from, _))) => {
                    assert_ne!(from, ip(1), "flood arrival {k}: the tablet's connection was told to close")
                }
                other => panic!("flood arrival {k}: {other:?}"),
            }
            let gone = flood.iter_mut().position(told).expect("a flood connection was told");
            drop(flood.remove(gone));
            flood.push(admitted(gate.admit(flooder(k))));
        }
        assert!(!told(&mut tablet), "the tablet's connection is still open, its handshake may end");
        assert_eq!(tablet.prove("tablet-1"), Proof::Kept);
    }

    /// A flood of connections that send nothing, each from an address of its own (so that
    /// each address holds as many unproven places as the tablet's), never closes a tablet's
    /// connection that has sent its ClientHello; with nothing silent left, the address holding
    /// the most unproven places loses its oldest.
    #[test]
    fn connections_that_sent_nothing_are_closed_first_r25() {
        let gate = Arc::new(Gate::new(caps(4, 4)));
        let mut tablet = admitted(gate.admit(ip(1)));
        gate.spoke(tablet.id);
        let mut flood: Vec<Ticket> = (2..5).map(|n| admitted(gate.admit(ip(n)))).collect();
        for n in 5..60 {
            match gate.admit(ip(n)) {
                Admission::Wait(Some((from, _))) => assert_eq!(from, flood[0].ip, "the oldest silent one"),
                other => panic!("{other:?}"),
            }
            assert!(told(&mut flood[0]));
            flood.remove(0);
            flood.push(admitted(gate.admit(ip(n))));
        }
        assert!(!told(&mut tablet), "the tablet's connection is still open");

        // Everyone has spoken; one address holds two unproven places: it loses its oldest.
        drop(flood.remove(0));
        flood.push(admitted(gate.admit(ip(58))));
        for t in &flood {
            gate.spoke(t.id);
        }
        assert!(matches!(gate.admit(ip(70)), Admission::Wait(Some((from, _))) if from == ip(58)));
        let (first, second) = (flood.iter().position(|t| t.ip == ip(58)).unwrap(), flood.len() - 1);
        assert!(told(&mut flood[first]) && !told(&mut flood[second]), "its oldest");
        assert!(!told(&mut tablet));
    }

    /// `evicted` may be awaited again after it resolved or was cut short (review 2, N8): once
    /// told, a connection stays told; once proven, it is never told; neither panics.
    #[tokio::test]
    async fn a_tickets_word_may_be_awaited_again_whatever_came_before() {
        let gate = Arc::new(Gate::new(caps(1, 1)));
        let mut kept = admitted(gate.admit(ip(1)));
        assert_eq!(kept.prove("tablet-1"), Proof::Kept);
        for _ in 0..3 {
            let waited = tokio::time::timeout(Duration::from_millis(20), kept.evicted()).await;
            assert!(waited.is_err(), "a proven connection is never told to close");
        }
        drop(kept);
        let mut closing = admitted(gate.admit(ip(1)));
        assert!(matches!(gate.admit(ip(2)), Admission::Wait(Some(_))));
        for _ in 0..3 {
            let waited = tokio::time::timeout(Duration::from_millis(20), closing.evicted()).await;
            assert!(waited.is_ok(), "told once, it stays told");
        }
    }

    /// R25 (review 2, S5): one device keeps at most `protected_per_device` connections; its
    /// others may be closed for a newcomer, and a place it gives back may be kept by another
    /// of its connections.
    #[test]
    fn one_device_keeps_only_so_many_connections_r25() {
        let gate = Arc::new(Gate::new(caps(6, 6)));
        let mut insider: Vec<Ticket> = (0..6).map(|_| admitted(gate.admit(ip(9)))).collect();
        let proofs: Vec<Proof> = insider
            .iter_mut()
            .map(|t| {
                gate.spoke(t.id);
                t.prove("tablet-09")
            })
            .collect();
        assert_eq!(proofs, [Proof::Kept, Proof::Kept, Proof::PastCap, Proof::PastCap, Proof::PastCap, Proof::PastCap]);
        assert!(matches!(gate.admit(ip(1)), Admission::Wait(Some((from, 1))) if from == ip(9)));
        assert!(told(&mut insider[2]), "the oldest of those past the cap");
        assert!(insider.iter_mut().enumerate().all(|(n, t)| n == 2 || !told(t)), "and no other");
        drop(insider.remove(2));
        let mut tablet = admitted(gate.admit(ip(1)));
        assert_eq!(tablet.prove("tablet-01"), Proof::Kept, "another device keeps its own");
        // A kept connection closes: the device's next connection may be kept.
        drop(insider.remove(0));
        let mut next = admitted(gate.admit(ip(9)));
        assert_eq!(next.prove("tablet-09"), Proof::Kept);
        assert_eq!(gate.places.lock().unwrap().protected.get("tablet-09"), Some(&2));
        drop(insider);
        drop(next);
        drop(tablet);
        let places = gate.places.lock().unwrap();
        assert!(places.protected.is_empty() && places.unproven.is_empty() && places.open == 0);
    }
}
