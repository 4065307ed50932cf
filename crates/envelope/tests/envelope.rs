//! The envelope: RFC 9180 known answers, sealing and opening, and every way it must fail.

use doorstep_envelope::*;
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, Serializable};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

fn hexd(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn rfc9180_a21_known_answers() {
    let text = include_str!("data/rfc9180-a21-base-x25519-sha256-chacha20poly1305.json");
    let v: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        (v["mode"].as_u64(), v["kem_id"].as_u64(), v["kdf_id"].as_u64(), v["aead_id"].as_u64()),
        (Some(0), Some(32), Some(1), Some(3))
    );

    // Key derivation from the vector's input keying material.
    let (sk_r, pk_r) = X25519HkdfSha256::derive_keypair(&hexd(&v["ikmR"]));
    assert_eq!(sk_r.to_bytes().to_vec(), hexd(&v["skRm"]));
    assert_eq!(pk_r.to_bytes().to_vec(), hexd(&v["pkRm"]));
    let (_, pk_e) = X25519HkdfSha256::derive_keypair(&hexd(&v["ikmE"]));
    assert_eq!(pk_e.to_bytes().to_vec(), hexd(&v["pkEm"]));
    assert_eq!(hexd(&v["enc"]), hexd(&v["pkEm"]), "DHKEM's enc is the ephemeral public key");

    // The receiver's context opens every listed encryption, in sequence.
    let enc = <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(&hexd(&v["enc"])).unwrap();
    let mut ctx = hpke::setup_receiver::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        &sk_r,
        &enc,
        &hexd(&v["info"]),
    )
    .unwrap();
    let encryptions = v["encryptions"].as_array().unwrap();
    for e in &encryptions[..8] {
        let pt = ctx.open(&hexd(&e["ct"]), &hexd(&e["aad"])).unwrap();
        assert_eq!(pt, hexd(&e["pt"]));
    }
    for e in v["exports"].as_array().unwrap() {
        let mut out = vec![0u8; e["L"].as_u64().unwrap() as usize];
        ctx.export(&hexd(&e["exporter_context"]), &mut out).unwrap();
        assert_eq!(out, hexd(&e["exported_value"]));
    }
    // A changed ciphertext does not open.
    let mut ct = hexd(&encryptions[8]["ct"]);
    ct[0] ^= 1;
    let mut fresh = hpke::setup_receiver::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        &sk_r,
        &enc,
        &hexd(&v["info"]),
    )
    .unwrap();
    assert!(fresh.open(&ct, &hexd(&encryptions[0]["aad"])).is_err());
}

struct Fixture {
    rng: StdRng,
    bureau: BureauKeyPair,
    device: SigningKey,
    officer: SigningKey,
    device_id: DeviceId,
}

fn fixture() -> Fixture {
    let mut rng = StdRng::seed_from_u64(7);
    let bureau = BureauKeyPair::generate(&mut rng);
    let mut seed = [0u8; 32];
    use rand::RngCore;
    rng.fill_bytes(&mut seed);
    let device = signing_key_from_seed(&seed);
    rng.fill_bytes(&mut seed);
    let officer = signing_key_from_seed(&seed);
    Fixture { rng, bureau, device, officer, device_id: DeviceId("tablet-test-01".into()) }
}

fn record(id: ApplicationId) -> ApplicationRecord {
    ApplicationRecord {
        schema_version: SCHEMA_VERSION,
        application_id: id,
        application_numbers: vec!["TEST-0001".into()],
        form_json: r#"{"name":"测试","id":"11010519491231002X"}"#.into(),
        photo_jpeg: vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
        fingerprints: vec![FingerprintCapture {
            finger: 2,
            width: 4,
            height: 2,
            image: vec![10, 20, 30, 40, 50, 60, 70, 80],
            template: vec![9; 16],
            quality: 80,
            exception: None,
        }],
        signature_png: vec![0x89, b'P', b'N', b'G'],
        consent_json: r#"{"application":true,"biometrics":true}"#.into(),
        other_signatures: vec![OtherSignature { signer: "guardian-1".into(), png: vec![0x89, b'P', 1] }],
        capture: CaptureMetadata {
            device_id: "tablet-test-01".into(),
            officer_id: "officer-test".into(),
            gnss: Some(GnssFix {
                lat_e7: 481_173_000,
                lon_e7: 115_166_666,
                hdop_centi: 90,
                satellites: 8,
                at_unix: 1_790_000_000,
            }),
            started_at_unix: 1_790_000_000,
            completed_at_unix: 1_790_000_900,
            quality: vec![],
        },
    }
}

fn sealed(f: &mut Fixture, id: ApplicationId, counter: u64) -> SealedEnvelope {
    let ctx = SealContext {
        bureau: &f.bureau.public,
        device_id: &f.device_id,
        device_key: &f.device,
        officer_id: "officer-test",
        officer_key: &f.officer,
        device_counter: counter,
        sealed_at_unix: 1_790_000_950,
    };
    seal(&record(id), &ctx, &mut f.rng).unwrap()
}

fn id(n: u64) -> ApplicationId {
    ApplicationId::new_v7(1_790_000_000_000 + n, [n as u8; 10])
}

#[test]
fn seal_then_open_round_trips_through_bytes() {
    let mut f = fixture();
    let env = sealed(&mut f, id(1), 1);
    let bytes = env.to_bytes();
    let back = SealedEnvelope::from_bytes(&bytes).unwrap();
    assert_eq!(back, env);
    back.verify(&f.device.verifying_key(), &[f.officer.verifying_key()]).unwrap();
    let opened = open(&back, &f.bureau.secret, Some(id(1))).unwrap();
    assert_eq!(opened, record(id(1)));
    assert_eq!(back.header().device_counter, 1);
}

#[test]
fn nothing_personal_is_in_clear_in_the_envelope() {
    let mut f = fixture();
    let bytes = sealed(&mut f, id(1), 1).to_bytes();
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!contains("测试".as_bytes()));
    assert!(!contains(b"11010519491231002X"));
    assert!(!contains(&[0xFF, 0xD8, 0xFF]));
}

#[test]
fn a_flipped_byte_anywhere_is_caught() {
    let mut f = fixture();
    let env = sealed(&mut f, id(1), 1);
    let bytes = env.to_bytes();
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        let verdict = SealedEnvelope::from_bytes(&bad).and_then(|e| {
            e.verify(&f.device.verifying_key(), &[f.officer.verifying_key()])?;
            open(&e, &f.bureau.secret, Some(id(1)))
        });
        assert!(verdict.is_err(), "flipping byte {i} went unnoticed");
        // Even without checking signatures, the AEAD refuses every altered ciphertext or header.
        if let Ok(e) = SealedEnvelope::from_bytes(&bad)
            && e.to_bytes()[..bytes.len() - 128] != bytes[..bytes.len() - 128]
        {
            assert!(open(&e, &f.bureau.secret, None).is_err(), "byte {i}: opened an altered envelope");
        }
    }
    assert!(matches!(SealedEnvelope::from_bytes(&bytes[..bytes.len() - 1]), Err(EnvelopeError::Malformed(_))));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(SealedEnvelope::from_bytes(&longer), Err(EnvelopeError::Malformed(_))));
    assert_eq!(SealedEnvelope::from_bytes(b"PK\x03\x04 not an envelope"), Err(EnvelopeError::BadMagic));
}

#[test]
fn distinct_errors_for_distinct_faults() {
    let mut f = fixture();
    let env = sealed(&mut f, id(1), 1);
    let trusted = [f.officer.verifying_key()];

    // Wrong bureau key: the signatures are fine, decryption is not.
    let other = BureauKeyPair::generate(&mut f.rng);
    env.verify(&f.device.verifying_key(), &trusted).unwrap();
    assert_eq!(open(&env, &other.secret, None), Err(EnvelopeError::Decryption));

    // Wrong application id.
    assert!(matches!(open(&env, &f.bureau.secret, Some(id(2))), Err(EnvelopeError::WrongApplicationId { .. })));

    // A signature over something else.
    let mut bytes = env.to_bytes();
    let n = bytes.len();
    bytes[n - 1] ^= 0x80;
    let bad_officer = SealedEnvelope::from_bytes(&bytes).unwrap();
    assert_eq!(
        bad_officer.verify(&f.device.verifying_key(), &trusted),
        Err(EnvelopeError::BadSignature(Signer::Officer))
    );
    let mut bytes = env.to_bytes();
    bytes[n - 65] ^= 0x80;
    let bad_device = SealedEnvelope::from_bytes(&bytes).unwrap();
    assert_eq!(
        bad_device.verify(&f.device.verifying_key(), &trusted),
        Err(EnvelopeError::BadSignature(Signer::Device))
    );

    // Well signed, but by a device or officer the verifier does not know.
    let stranger = signing_key_from_seed(&[42; 32]);
    assert_eq!(env.verify(&stranger.verifying_key(), &trusted), Err(EnvelopeError::UntrustedKey(Signer::Device)));
    assert_eq!(
        env.verify(&f.device.verifying_key(), &[stranger.verifying_key()]),
        Err(EnvelopeError::UntrustedKey(Signer::Officer))
    );
}

#[test]
fn a_replayed_counter_is_refused_and_a_retry_is_recognised() {
    let mut f = fixture();
    let first = sealed(&mut f, id(1), 5);
    let mut seen = SeenCounters::default();
    assert_eq!(seen.admit(&first), Ok(Admission::New));
    assert_eq!(seen.admit(&first), Ok(Admission::Duplicate));
    let replay = sealed(&mut f, id(2), 5);
    assert_eq!(seen.admit(&replay), Err(EnvelopeError::ReplayedCounter { counter: 5 }));
    // The same application sealed again with the same counter has a new HPKE key, so a
    // different digest: that is a replay too, not a retry.
    let resealed = sealed(&mut f, id(1), 5);
    assert_ne!(resealed.digest(), first.digest());
    assert_eq!(seen.admit(&resealed), Err(EnvelopeError::ReplayedCounter { counter: 5 }));
    assert_eq!(seen.admit(&sealed(&mut f, id(3), 6)), Ok(Admission::New));
}

#[test]
fn manifests_are_signed_and_checked() {
    let mut f = fixture();
    let a = sealed(&mut f, id(1), 1);
    let b = sealed(&mut f, id(2), 2);
    let supervisor = signing_key_from_seed(&[5; 32]);
    let manifest = BatchManifest {
        batch_id: "2026-11-26-tablet-test-01".into(),
        device_id: "tablet-test-01".into(),
        supervisor_id: "supervisor-test".into(),
        created_at_unix: 1_790_030_000,
        entries: vec![
            ManifestEntry { application_id: a.application_id(), digest: a.digest(), decision: Decision::Approved },
            ManifestEntry {
                application_id: b.application_id(),
                digest: b.digest(),
                decision: Decision::Returned { reason: "照片背景不合格".into() },
            },
        ],
        audit_head: [3; 32],
        audit_length: 40,
    };
    let signed = manifest.clone().sign(&supervisor).unwrap();
    let bytes = signed.to_bytes();
    let back = SignedManifest::from_bytes(&bytes).unwrap();
    assert_eq!(back.verify(&[supervisor.verifying_key()]).unwrap(), &manifest);
    assert_eq!(back.verify(&[f.officer.verifying_key()]), Err(EnvelopeError::UntrustedKey(Signer::Supervisor)));
    for i in 8..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x04;
        let verdict = SignedManifest::from_bytes(&bad).and_then(|m| m.verify(&[supervisor.verifying_key()]).cloned());
        assert!(verdict.is_err(), "manifest byte {i} flipped unnoticed");
    }
    let mut dup = manifest.clone();
    dup.entries.push(dup.entries[0].clone());
    assert!(matches!(dup.sign(&supervisor), Err(EnvelopeError::InvalidManifest(_))));
    let mut no_reason = manifest;
    no_reason.entries[1].decision = Decision::Returned { reason: " ".into() };
    assert!(matches!(no_reason.sign(&supervisor), Err(EnvelopeError::InvalidManifest(_))));
}

#[test]
fn debug_output_hides_the_record() {
    let r = record(id(1));
    let s = format!("{r:?} {:?}", r.fingerprints);
    assert!(!s.contains("测试") && !s.contains("11010519491231002X"), "{s}");
}

proptest::proptest! {
    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let _ = SealedEnvelope::from_bytes(&bytes);
        let _ = SignedManifest::from_bytes(&bytes);
        let mut with_magic = b"DSENV\x00\x01\n".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = SealedEnvelope::from_bytes(&with_magic);
    }
}
