//! Fuzzes the license key parser and verifier: any bytes, as text, must be refused or
//! accepted without a panic, and anything accepted must be exactly what was signed.
#![no_main]

use holdfast::license::{TrustedKeys, VerifiedLicense};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let trusted = TrustedKeys::builtin();
    let text = String::from_utf8_lossy(data);
    if let Ok(license) = VerifiedLicense::verify(&text, &trusted) {
        // Whatever was accepted re-verifies from its own normalised text.
        let again = VerifiedLicense::verify(license.text(), &trusted).expect("re-verifies");
        assert_eq!(again, license);
    }
});
