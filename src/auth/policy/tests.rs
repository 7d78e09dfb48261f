//! Policy parsing and evaluation, including property tests that no document, however
//! malformed, makes the parser panic.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

const RECORDS: &str = "live:DescribeLiveStreamsNotifyRecords";
const SET: &str = "live:SetLiveStreamsNotifyUrlConfig";
const DOMAIN_A: &str = "acs:live:*:1234567890123456:domain/a.example.com";
const DOMAIN_B: &str = "acs:live:*:1234567890123456:domain/b.example.com";

fn policy(value: Value) -> Policy {
    Policy::parse(&value.to_string()).expect("a valid policy")
}

fn refusal(value: Value) -> String {
    match Policy::parse(&value.to_string()) {
        Ok(policy) => panic!("accepted {value}: {policy:?}"),
        Err(error) => error.to_string(),
    }
}

fn statement(effect: &str, action: Value, resource: Value) -> Value {
    json!({"Effect": effect, "Action": action, "Resource": resource})
}

fn document(statements: Vec<Value>) -> Value {
    json!({"Version": "1", "Statement": statements})
}

#[test]
fn an_allow_grants_exactly_its_action_and_resource() {
    let allow = policy(document(vec![statement(
        "Allow",
        json!(RECORDS),
        json!(DOMAIN_A),
    )]));
    let verdict = |action, resource| evaluate([&allow], action, resource);
    assert_eq!(verdict(RECORDS, DOMAIN_A), Verdict::Allowed);
    assert_eq!(verdict(SET, DOMAIN_A), Verdict::ImplicitDeny);
    assert_eq!(verdict(RECORDS, DOMAIN_B), Verdict::ImplicitDeny);
}

#[test]
fn a_deny_wins_over_an_allow_in_the_same_or_another_policy() {
    let allow_all = policy(document(vec![statement(
        "Allow",
        json!("live:*"),
        json!("*"),
    )]));
    let deny_b = policy(document(vec![statement(
        "Deny",
        json!("live:Describe*"),
        json!(DOMAIN_B),
    )]));
    assert_eq!(
        evaluate([&allow_all, &deny_b], RECORDS, DOMAIN_B),
        Verdict::ExplicitDeny
    );
    assert_eq!(
        evaluate([&deny_b, &allow_all], RECORDS, DOMAIN_A),
        Verdict::Allowed
    );

    let both = policy(document(vec![
        statement("Deny", json!(RECORDS), json!(DOMAIN_A)),
        statement("Allow", json!(RECORDS), json!(DOMAIN_A)),
    ]));
    assert_eq!(evaluate([&both], RECORDS, DOMAIN_A), Verdict::ExplicitDeny);
}

#[test]
fn no_policy_grants_nothing() {
    assert_eq!(evaluate([], RECORDS, DOMAIN_A), Verdict::ImplicitDeny);
}

#[test]
fn wildcards_and_lists_in_actions_and_resources() {
    let p = policy(document(vec![statement(
        "Allow",
        json!(["live:Describe*", "live:Set?iveStreamsNotifyUrlConfig"]),
        json!(["acs:live:*:1234567890123456:domain/*.example.com"]),
    )]));
    assert_eq!(evaluate([&p], RECORDS, DOMAIN_B), Verdict::Allowed);
    assert_eq!(evaluate([&p], SET, DOMAIN_A), Verdict::Allowed);
    assert_eq!(
        evaluate([&p], "live:DeleteLiveStreamsNotifyUrlConfig", DOMAIN_A),
        Verdict::ImplicitDeny
    );
    let other_account = "acs:live:*:9999999999999999:domain/a.example.com";
    assert_eq!(
        evaluate([&p], RECORDS, other_account),
        Verdict::ImplicitDeny
    );
}

#[test]
fn actions_match_case_insensitively_and_resources_do_not() {
    let p = policy(document(vec![statement(
        "Allow",
        json!("LIVE:describeLIVEstreamsNOTIFYrecords"),
        json!(DOMAIN_A),
    )]));
    assert_eq!(evaluate([&p], RECORDS, DOMAIN_A), Verdict::Allowed);
    let upper = DOMAIN_A.replace("a.example.com", "A.example.com");
    assert_eq!(evaluate([&p], RECORDS, &upper), Verdict::ImplicitDeny);
}

#[test]
fn the_administrator_policy_allows_everything() {
    let admin = policy(document(vec![statement("Allow", json!("*"), json!("*"))]));
    assert_eq!(evaluate([&admin], SET, DOMAIN_B), Verdict::Allowed);
}

#[test]
fn the_canonical_form_parses_back_to_the_same_policy() {
    let p = policy(document(vec![
        statement("Allow", json!("live:Describe*"), json!(DOMAIN_A)),
        statement("Deny", json!([SET]), json!(["*"])),
    ]));
    assert_eq!(
        Policy::parse(&p.to_json()).expect("canonical form parses"),
        p
    );
    assert!(
        p.to_json().contains(r#""Action":["live:Describe*"]"#),
        "{}",
        p.to_json()
    );
}

/// A document with one statement of these fields.
fn with_statement(fields: Value) -> Value {
    document(vec![fields])
}

#[test]
fn malformed_documents_are_refused_with_the_reason() {
    let ok = || statement("Allow", json!(RECORDS), json!(DOMAIN_A));
    let cases: Vec<(Value, &str)> = vec![
        (json!([]), "must be a JSON object"),
        (json!({"Version": "1"}), "Statement is missing"),
        (json!({"Statement": [ok()]}), "Version is missing"),
        (
            json!({"Version": "2", "Statement": [ok()]}),
            "Version must be \"1\"",
        ),
        (
            json!({"Version": 1, "Statement": [ok()]}),
            "Version must be \"1\"",
        ),
        (document(vec![]), "Statement must not be empty"),
        (
            json!({"Version": "1", "Statement": ok()}),
            "Statement must be a list",
        ),
        (
            json!({"Version": "1", "Statement": [ok()], "Id": "x"}),
            "Id is not a field",
        ),
    ];
    for (value, reason) in cases {
        let message = refusal(value.clone());
        assert!(
            message.contains(reason),
            "{value} -> {message}, wanted {reason}"
        );
    }
}

#[test]
fn malformed_statements_are_refused_with_the_reason() {
    let allow = |action: Value, resource: Value| statement("Allow", action, resource);
    let cases: Vec<(Value, &str)> = vec![
        (
            statement("allow", json!(RECORDS), json!(DOMAIN_A)),
            "Statement[0].Effect must be \"Allow\" or \"Deny\", not \"allow\"",
        ),
        (
            json!({"Action": RECORDS, "Resource": DOMAIN_A}),
            "Statement[0].Effect is missing",
        ),
        (
            allow(json!("DescribeLiveStreamsNotifyRecords"), json!(DOMAIN_A)),
            "Action \"DescribeLiveStreamsNotifyRecords\" must be \"*\" or start with a service",
        ),
        (
            allow(json!([RECORDS, ":x"]), json!("*")),
            "Statement[0].Action[1]",
        ),
        (
            allow(json!([]), json!("*")),
            "Statement[0].Action must not be empty",
        ),
        (
            allow(json!([1]), json!("*")),
            "Statement[0].Action[0] must be a string",
        ),
        (
            allow(json!(RECORDS), json!({})),
            "Statement[0].Resource must be a string",
        ),
        (
            allow(json!(RECORDS), json!("domain/a")),
            "Resource \"domain/a\" must be \"*\" or start with acs:",
        ),
        (
            json!({"Effect": "Allow", "Action": RECORDS}),
            "Statement[0].Resource is missing",
        ),
        (
            json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}),
            "Statement[0].Condition is not supported",
        ),
        (
            json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Extra": 1}),
            "Statement[0].Extra is not a field of a policy",
        ),
    ];
    for (fields, reason) in cases {
        let message = refusal(with_statement(fields.clone()));
        assert!(
            message.contains(reason),
            "{fields} -> {message}, wanted {reason}"
        );
    }
    let second = document(vec![
        statement("Allow", json!("*"), json!("*")),
        statement("Deny", json!("live"), json!("*")),
    ]);
    assert!(refusal(second).starts_with("Statement[1].Action \"live\""));
}

#[test]
fn invalid_json_and_oversized_documents_are_refused() {
    let message = Policy::parse("{\"Version\": \"1\",")
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("the policy document is not valid JSON"),
        "{message}"
    );
    let huge = format!(
        "{{\"Version\":\"1\",\"Statement\":[],\"x\":\"{}\"}}",
        "a".repeat(7000)
    );
    assert!(matches!(
        Policy::parse(&huge),
        Err(PolicyError::TooLong { .. })
    ));
}

#[test]
fn resource_names_follow_alibabas_format() {
    assert_eq!(action_name("DescribeLiveStreamsNotifyRecords"), RECORDS);
    assert_eq!(
        domain_resource("1234567890123456", "a.example.com"),
        DOMAIN_A
    );
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            any::<String>(),
            Just("Allow".to_string()),
            Just("Deny".to_string()),
            Just("1".to_string()),
            "(live|LIVE|x|):[A-Za-z*?]{0,12}",
            "(acs:live:\\*:[0-9]{1,4}:domain/)?[a-z.*?]{0,12}",
        ]
        .prop_map(Value::from),
    ];
    let key = prop_oneof![
        Just("Version".to_string()),
        Just("Statement".to_string()),
        Just("Effect".to_string()),
        Just("Action".to_string()),
        Just("Resource".to_string()),
        Just("Condition".to_string()),
        any::<String>(),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = Policy::parse(&text);
    }

    #[test]
    fn arbitrary_json_never_panics_and_accepted_policies_evaluate(value in json_value()) {
        if let Ok(policy) = Policy::parse(&value.to_string()) {
            let _ = evaluate([&policy], RECORDS, DOMAIN_A);
            prop_assert_eq!(Policy::parse(&policy.to_json()).ok(), Some(policy));
        }
    }

    #[test]
    fn policy_shaped_json_never_panics(
        effect in "(Allow|Deny|allow|)",
        actions in prop::collection::vec("[a-zA-Z:*? ]{0,16}", 0..4),
        resources in prop::collection::vec("(acs:|\\*)?[a-z0-9:/*?.]{0,16}", 0..4),
    ) {
        let value = document(vec![statement(&effect, json!(actions), json!(resources))]);
        let _ = Policy::parse(&value.to_string()).map(|p| evaluate([&p], SET, DOMAIN_B));
    }
}
