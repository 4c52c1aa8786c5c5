//! The sign-in form's signed double-submit token.

mod common;

use std::time::Duration;

use common::{clock, minutes};
use hmac::{Hmac, Mac as _};
use phm_accounts::csrf::constant_time_eq;
use phm_accounts::{CsrfError, SignInForms};
use sha2::Sha256;

const KEY: [u8; 32] = [7; 32];

#[test]
fn a_form_token_is_accepted_with_the_cookie_it_was_issued_with() {
    let (_, clock) = clock();
    let forms = SignInForms::with_key(KEY, clock);
    let token = forms.issue().expect("issue");
    assert_eq!(token.cookie.len(), 32, "a 128-bit nonce in hex");
    assert_eq!(forms.verify(&token.cookie, &token.field), Ok(()));
    assert_ne!(forms.issue().expect("issue").cookie, token.cookie, "each form has its own nonce");
}

#[test]
fn the_field_is_the_documented_hmac_of_the_nonce_and_time() {
    let (_, clock) = clock();
    let forms = SignInForms::with_key(KEY, clock);
    let token = forms.issue().expect("issue");
    let issued = common::start().timestamp().to_string();
    let mut mac = <Hmac<Sha256>>::new_from_slice(&KEY).expect("key");
    mac.update(format!("openphm sign-in form v1\0{}\0{issued}", token.cookie).as_bytes());
    assert_eq!(token.field, format!("{issued}.{}", hex::encode(mac.finalize().into_bytes())));
}

#[test]
fn a_token_for_another_cookie_or_from_another_key_is_refused() {
    let (_, clock) = clock();
    let forms = SignInForms::with_key(KEY, clock.clone());
    let a = forms.issue().expect("issue");
    let b = forms.issue().expect("issue");
    assert_eq!(forms.verify(&a.cookie, &b.field), Err(CsrfError::Mismatch), "another form's field");
    let restarted = SignInForms::with_key([8; 32], clock);
    assert_eq!(restarted.verify(&a.cookie, &a.field), Err(CsrfError::Mismatch), "a server with a new key");
    // Moving the time forward in the field breaks the signature.
    let (issued, mac) = a.field.split_once('.').expect("t.m");
    let later: i64 = issued.parse::<i64>().expect("seconds") + 1;
    assert_eq!(forms.verify(&a.cookie, &format!("{later}.{mac}")), Err(CsrfError::Mismatch));
}

#[test]
fn malformed_tokens_are_refused_as_malformed() {
    let (_, clock) = clock();
    let forms = SignInForms::with_key(KEY, clock);
    let good = forms.issue().expect("issue");
    for (cookie, field) in [
        ("", good.field.as_str()),
        ("xyz", good.field.as_str()),
        (&*good.cookie.to_uppercase(), good.field.as_str()),
        (good.cookie.as_str(), ""),
        (good.cookie.as_str(), "no-dot"),
        (good.cookie.as_str(), &*good.field.replace('.', ".zz")),
        (good.cookie.as_str(), &*format!("-1{}", &good.field[good.field.find('.').expect("dot")..])),
        (
            good.cookie.as_str(),
            &*format!("99999999999999999999999{}", &good.field[good.field.find('.').expect("dot")..]),
        ),
    ] {
        assert_eq!(forms.verify(cookie, field), Err(CsrfError::Malformed), "cookie `{cookie}`, field `{field}`");
    }
}

#[test]
fn a_form_token_expires_after_two_hours() {
    let (time, clock) = clock();
    let forms = SignInForms::with_key(KEY, clock);
    assert_eq!(forms.max_age(), Duration::from_secs(2 * 60 * 60));
    let token = forms.issue().expect("issue");
    time.advance(minutes(120));
    assert_eq!(forms.verify(&token.cookie, &token.field), Ok(()), "exactly two hours");
    time.advance(Duration::from_secs(1));
    assert_eq!(forms.verify(&token.cookie, &token.field), Err(CsrfError::Expired));
    // A token from the future (a clock set back) is refused too.
    time.set(common::start() - chrono::TimeDelta::minutes(5));
    assert_eq!(forms.verify(&token.cookie, &token.field), Err(CsrfError::Expired));
}

#[test]
fn constant_time_comparison_is_plain_equality() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(constant_time_eq(b"", b""));
}
