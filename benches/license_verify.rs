//! Parse + verify of a license key, against raw ed25519-dalek `verify_strict` of the same
//! bytes, in the same run: the ratio shows what the key format costs on top of the signature.
//!
//! Run: `cargo bench --bench license_verify`

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::Signature;
use holdfast::license::{
    FORMAT_VERSION, IssueRequest, Payload, SigningKeyFile, TrustedKeys, VerifiedLicense, issue_key,
};

fn typical_key(signer: &SigningKeyFile) -> VerifiedLicense {
    let payload = Payload {
        format: FORMAT_VERSION,
        license_id: "0123456789abcdef01234567".to_owned(),
        customer: "Acme Corporation International".to_owned(),
        edition: "enterprise".to_owned(),
        issued_at: 1_800_000_000,
        not_before: None,
        expires_at: Some(1_831_536_000),
        grace_days: 14,
        max_seats: 50,
        max_tenants: 5,
        features: ["sso", "branding", "api_tokens", "audit_export"]
            .map(str::to_owned)
            .to_vec(),
        instance: None,
    };
    issue_key(signer, &IssueRequest { payload }).expect("issue")
}

fn bench(c: &mut Criterion) {
    let signer = SigningKeyFile::generate();
    let trusted = TrustedKeys::only(vec![signer.public()]);
    let key = typical_key(&signer);
    let text = key.text().to_owned();
    let parts: Vec<&str> = text.split('.').collect();
    let payload = URL_SAFE_NO_PAD.decode(parts[2]).expect("payload");
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(parts[3])
        .expect("signature")
        .try_into()
        .expect("64 bytes");
    let signature = Signature::from_bytes(&signature);
    let public = signer.public();

    let mut group = c.benchmark_group("license_verify");
    group.bench_function("holdfast_parse_and_verify", |b| {
        b.iter(|| VerifiedLicense::verify(std::hint::black_box(&text), &trusted).expect("valid"));
    });
    group.bench_function("raw_ed25519_verify_strict", |b| {
        b.iter(|| {
            public
                .verifying_key()
                .verify_strict(std::hint::black_box(&payload), &signature)
                .expect("valid");
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
