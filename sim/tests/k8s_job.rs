//! The Kubernetes manifests in scripts/k8s: the Indexed Job's pods are the
//! shards of one run (completions = N, each index's `--shard K/N`, its own
//! directory), the merge Job lists every shard's directory once, and the
//! commands, run here as the pods would run them, merge into the single
//! run's files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cutover::shard::Shard;
use yaml_rust2::{Yaml, YamlLoader};

const INDEX: &str = "$(JOB_COMPLETION_INDEX)";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn manifest(name: &str) -> Yaml {
    let path = repo().join("scripts/k8s").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).unwrap();
    assert_eq!(docs.len(), 1, "{name}: one document");
    docs.remove(0)
}

fn strings(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .unwrap_or_else(|| panic!("not a list: {y:?}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The one container of a Job's pod template.
fn container(job: &Yaml) -> &Yaml {
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let containers = pod["containers"].as_vec().unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(strings(&containers[0]["command"]), ["cutover"]);
    &containers[0]
}

/// The value after `flag` in `args`.
fn value<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args.iter().position(|a| a == flag);
    let at = at.unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    &args[at + 1]
}

/// The Indexed Job's shard count and its container's arguments.
fn replicate_job() -> (u64, Vec<String>) {
    let job = manifest("replicate-job.yaml");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_i64().unwrap();
    let parallelism = spec["parallelism"].as_i64().unwrap();
    assert!(
        n >= 1 && (1..=n).contains(&parallelism),
        "{n} {parallelism}"
    );
    let c = container(&job);
    let env = c["env"].as_vec().unwrap();
    let index = env
        .iter()
        .find(|e| e["name"].as_str() == Some("JOB_COMPLETION_INDEX"))
        .expect("JOB_COMPLETION_INDEX declared");
    assert_eq!(
        index["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
        Some("metadata.annotations['batch.kubernetes.io/job-completion-index']")
    );
    (n as u64, strings(&c["args"]))
}

fn merge_job_args() -> Vec<String> {
    strings(&container(&manifest("merge-job.yaml"))["args"])
}

fn expand(args: &[String], k: u64) -> Vec<String> {
    args.iter()
        .map(|a| a.replace(INDEX, &k.to_string()))
        .collect()
}

#[test]
fn the_indexed_jobs_pods_are_every_shard_once_and_the_merge_reads_them_all() {
    let (n, args) = replicate_job();
    assert_eq!(args[0], "plan");
    value(&args, "--replications").parse::<u64>().unwrap();
    assert_eq!(value(&args, "--shard"), format!("{INDEX}/{n}"));
    assert!(
        value(&args, "--out").contains(INDEX),
        "each pod its own directory"
    );
    let mut outs = Vec::new();
    for k in 0..n {
        let pod = expand(&args, k);
        let shard = Shard::parse(value(&pod, "--shard")).unwrap();
        assert_eq!(shard, Shard { index: k, count: n });
        outs.push(value(&pod, "--out").to_string());
    }
    let merge = merge_job_args();
    assert_eq!(merge[0], "merge");
    let end = merge.iter().position(|a| a == "--out").unwrap();
    let mut dirs = merge[1..end].to_vec();
    dirs.sort();
    outs.sort();
    assert_eq!(dirs, outs, "the merge lists each pod's directory once");
    assert!(!outs.contains(&value(&merge, "--out").to_string()));
    // Both Jobs see the same volume at the same place.
    let mounts = |name: &str| {
        let job = manifest(name);
        let pod = &job["spec"]["template"]["spec"];
        (
            pod["volumes"][0]["persistentVolumeClaim"]["claimName"].clone(),
            container(&job)["volumeMounts"].clone(),
        )
    };
    assert_eq!(mounts("replicate-job.yaml"), mounts("merge-job.yaml"));
}

/// Runs the container's arguments with /work as `work` (and, to stay
/// quick, `replications` replications).
fn run(args: &[String], work: &Path, replications: &str) -> std::process::Output {
    let mut args: Vec<String> = args
        .iter()
        .map(|a| a.replacen("/work", work.to_str().unwrap(), 1))
        .collect();
    if let Some(at) = args.iter().position(|a| a == "--replications") {
        args[at + 1] = replications.to_string();
    }
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(&args)
        .output()
        .unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn results(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "run-info.json")
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_jobs_commands_run_as_pods_would_and_merge_into_the_single_run() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    copy_tree(&repo().join("scenarios"), &work.join("scenarios"));
    let (n, args) = replicate_job();
    // The last pod first: the index, not the order, makes the shard.
    for k in (0..n).rev() {
        let out = run(&expand(&args, k), &work, "3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let merged = run(&merge_job_args(), &work, "3");
    let single = run(
        &[
            "plan".to_string(),
            value(&args, "plan").to_string(),
            "--replications".to_string(),
            "3".to_string(),
            "--out".to_string(),
            "/work/single".to_string(),
        ],
        &work,
        "3",
    );
    assert_eq!(merged.status.code(), single.status.code());
    let (a, b) = (results(&work.join("single")), results(&work.join("merged")));
    assert!(a.contains_key("replications.csv") && a.contains_key("summary.json"));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name}: the merge Job's differs from the single run's"
        );
    }
}
