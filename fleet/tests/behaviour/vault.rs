//! Issue 18: Ansible Vault, as real playbooks use it: a vault-encrypted group_vars file, a
//! vars file encrypted for a vault id, a `!vault` value in a play, opened with
//! `--vault-password-file` and `--vault-id LABEL@SCRIPT` (an executable printing the
//! password). The ciphertexts below were made by ansible-vault 2.19 (`encrypt`,
//! `encrypt_string`), so fleet opens what Ansible writes; vaulted `copy` and `template` sources
//! reach the host decrypted. Without a secret, or with a wrong
//! one, the run stops naming the file; a `!vault` value no secret opens fails only the task
//! that uses it.

use std::fs;
use std::time::Duration;

use e2e::pty::PtySession;

use crate::lab::{Lab, FLEET};

/// `db_password: s3cret`, password `pw1`.
pub(crate) const GROUP_VARS: &str = "$ANSIBLE_VAULT;1.1;AES256
32633831366664326431643465333766393534643632373934653036636562343233623061316136
6137333530643066313665376265376164653664333864640a316439613031633437306261653561
61646261373162633261653861653236633131373335326637636637656563653134633833363038
3765623965653033380a393962353536633135306539323839616234656462346365373331316232
65636162613565346135376166646631636265353332396562356666623736323865
";

/// `api_key: k3y`, vault id `prod`, password `pw2`.
const PROD_VARS: &str = "$ANSIBLE_VAULT;1.2;AES256;prod
38633531306631646163393938326230316631306361316161633535393232386361356631366466
6633383934643735323430323537373831663565373961320a643564313463653031373066386433
61316438336537346462656233633832626638653036326565636462386261373331356666386661
3730373936383737370a393634626231623461323038626263643961373162303136306238376532
3533
";

/// `file-secret`, password `pw1`: a `copy` source.
const FILE: &str = "$ANSIBLE_VAULT;1.1;AES256
32376564366435616630306639333961623161663438353639653630323932616439346632336536
3534643334343465323063363864353964373632626562610a653037653637623466613064383839
64643532333039356233356133616538313633393162343330373561393237303637393061653561
3339323464613038310a393361376434363631613038306364316637346535653934333662336162
3432
";

/// `tpl {{ db_password }}`, password `pw1`: a `template` source.
const TEMPLATE: &str = "$ANSIBLE_VAULT;1.1;AES256
33616461646339653236376530383766383235353632373665356232626366306264636530323161
6465366235663530323862613039323032616235353436640a303364333735396632333932326638
36616461353063613438393838313033653332386662326532373932376533343339333731386561
6532643562306564610a653639356336353937366664356465333237663064666132366333653530
38653036616165353737386538393330626661323461353237393661633333626662
";

const PLAYBOOK: &str = r#"
- hosts: targets
  gather_facts: false
  vars_files: [prod.yml]
  vars:
    token: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          61383132343031633865356437346365383633613836636563623034333065383366643266656264
          3437326466633137353065643939323331396431353363610a656139383734616438653166626439
          35326334326437396263333063313137643936373539373362396130386239376132373863303837
          3435383164323862380a613362646130323463353637363563393864663364663763636365383731
          3031
    # encrypted with a password this run is not given: harmless until a task uses it
    unused: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          33623234333339333234326165316337613062656634643832613566333061333762363336643534
          6634343365363564373132616437383964306634633461640a346132373864373966366332353263
          34323232633666306563316138396362383361326638366265356430333532393664313561323135
          3262323134333464320a356434653063356463353033613037343433356363313662383137323931
          6264
  tasks:
    - copy:
        content: "{{ db_password }} {{ api_key }} {{ token }}\n"
        dest: "{{ out }}/{{ inventory_hostname }}-secrets"
    - copy: {src: secret.txt, dest: "{{ out }}/{{ inventory_hostname }}-file"}
    - template: {src: t.j2, dest: "{{ out }}/{{ inventory_hostname }}-tpl"}
    - debug: var=unused
      ignore_errors: true
      register: opened
    - assert:
        that:
          - opened is failed
          - opened.msg is search('no vault secrets were found that could decrypt')
"#;

/// A lab with the vaulted files in place, and `--vault-id prod@SCRIPT` for the `prod` vault.
fn vaulted_lab() -> (Lab, String) {
    let lab = Lab::new(1);
    lab.write("group_vars/all.yml", GROUP_VARS);
    lab.write("prod.yml", PROD_VARS);
    lab.write("files/secret.txt", FILE);
    lab.write("templates/t.j2", TEMPLATE);
    let script = lab.write("pw2.sh", "#!/bin/sh\necho pw2\n");
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let prod = format!("prod@{}", script.display());
    (lab, prod)
}

#[test]
fn vaulted_files_and_values_open_with_the_runs_secrets() {
    let (lab, prod) = vaulted_lab();
    let pw1 = lab.write("pw1", "pw1\n");
    let run = lab.play(
        PLAYBOOK,
        &[
            "--vault-password-file",
            pw1.to_str().unwrap(),
            "--vault-id",
            &prod,
        ],
    );
    assert_eq!(run.code, Some(0), "{run}");
    let written = lab.out().join(format!("{}-secrets", lab.host(0)));
    assert_eq!(
        fs::read_to_string(written).unwrap(),
        "s3cret k3y t0ken\n",
        "{run}"
    );
    for (file, want) in [("file", "file-secret\n"), ("tpl", "tpl s3cret\n")] {
        let written = lab.out().join(format!("{}-{file}", lab.host(0)));
        assert_eq!(fs::read_to_string(written).unwrap(), want, "{run}");
    }
    // no password ever reaches the output
    assert!(
        !run.stdout.contains("pw1") && !run.stderr.contains("pw2"),
        "{run}"
    );

    // without secrets, and with a wrong one: the vaulted group_vars file stops the run
    let run = lab.play(PLAYBOOK, &[]);
    assert_ne!(run.code, Some(0), "{run}");
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("Attempting to decrypt but no vault secrets found")
            && said.contains("group_vars/all.yml"),
        "{run}"
    );
    let wrong = lab.write("wrong", "nope\n");
    let run = lab.play(
        PLAYBOOK,
        &["--vault-password-file", wrong.to_str().unwrap()],
    );
    assert_ne!(run.code, Some(0), "{run}");
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("Decryption failed"),
        "{run}"
    );
}

/// `--ask-vault-pass`: asked on the terminal, without echo, before anything is read.
#[test]
fn the_vault_password_is_asked_on_the_terminal() {
    let (lab, prod) = vaulted_lab();
    let pb = lab.write("site.yml", PLAYBOOK);
    let argv: Vec<String> = [
        FLEET,
        "run",
        pb.to_str().unwrap(),
        "-i",
        lab.path("inventory.yml").to_str().unwrap(),
        "--vault-id",
        &prod,
        "--ask-vault-pass",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let home = lab.path("home").to_string_lossy().into_owned();
    let mut pty = PtySession::spawn(&argv, &[("HOME".into(), home)], 120, 40);
    pty.expect("Vault password: ", Duration::from_secs(20));
    pty.send("pw1\r");
    assert_eq!(
        pty.wait(Duration::from_secs(60)),
        Some(0),
        "{}",
        pty.output()
    );
    assert!(!pty.output().contains("pw1"), "echoed:\n{}", pty.output());
    let written = lab.out().join(format!("{}-secrets", lab.host(0)));
    assert_eq!(fs::read_to_string(written).unwrap(), "s3cret k3y t0ken\n");
}
