//! Kubernetes manifests as the estate's service: the story's Deployment and
//! HPA give the same run as the hand-written estate, an HPA on several
//! metrics runs, and each class of bad manifest is refused with a located
//! error.

use std::path::{Path, PathBuf};

use cutover::experiment::Experiment;
use cutover::world::World;

fn story(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/story")
        .join(name)
}

fn load(path: &Path) -> Experiment {
    Experiment::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn summary_json(exp: &Experiment) -> String {
    let summary = World::new(exp, 1).expect("BGP settles").run().summary;
    serde_json::to_string_pretty(&summary).unwrap()
}

#[test]
fn the_spike_from_the_manifests_is_the_spike_of_the_estate() {
    let by_hand = load(&story("spike.toml"));
    let from_yaml = load(&story("spike-k8s.toml"));
    // The manifests hold the estate's values: the same deployment, HPA and
    // start-up, so the same run, byte for byte. (run-info.json differs: it
    // names the scenario file and the wall time.)
    // Only the memory request is new (the estate has no memory model).
    let mut dep = from_yaml.estate.deployment.clone();
    assert_eq!(dep.memory_request_bytes, 512 << 20);
    dep.memory_request_bytes = 0;
    assert_eq!(dep, by_hand.estate.deployment);
    assert_eq!(summary_json(&from_yaml), summary_json(&by_hand));
}

#[test]
fn an_hpa_on_four_metrics_scales_past_the_cpu_target() {
    let cpu_only = load(&story("spike.toml"));
    let multi = load(&story("spike-k8s-multi.toml"));
    let dep = &multi.estate.deployment;
    assert_eq!(dep.hpa.metrics.len(), 4);
    assert_eq!(dep.memory_request_bytes, 512 << 20);
    assert_eq!(dep.memory_base_bytes, 300 << 20);
    // successThreshold 2 at a 5 s period: ready one period later.
    assert_eq!(dep.startup.probe_success_threshold, 2);
    assert_eq!(dep.hpa.calc.tolerance_up, 0.05);
    let run = |e: &Experiment| World::new(e, 1).expect("BGP settles").run().summary;
    let (a, b) = (run(&cpu_only), run(&multi));
    // 50 requests/s a pod at 13 ms each is 65 % of a core: the Pods metric
    // asks for more than the 70 % CPU target, so the climb has more pods.
    let ready = |s: &cutover::world::summary::Summary| {
        s.sites.iter().map(|x| x.stats.max_ready_pods).sum::<u64>()
    };
    assert!(ready(&b) > ready(&a), "{} vs {}", ready(&b), ready(&a));
}

/// Writes the sample manifest with `edit` applied and an experiment naming
/// it, and returns the error loading gives.
fn error_with(edit: impl Fn(&str) -> String, toml_extra: &str) -> (String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(story("k8s/web.yaml")).unwrap();
    let manifest = dir.path().join("web.yaml");
    std::fs::write(&manifest, edit(&yaml)).unwrap();
    let exp = std::fs::read_to_string(story("spike-k8s.toml"))
        .unwrap()
        .replace(
            "estate = \"estate.toml\"",
            &format!("estate = {:?}", story("estate.toml").display().to_string()),
        )
        .replace("k8s/web.yaml", "web.yaml")
        + toml_extra;
    let path = dir.path().join("exp.toml");
    std::fs::write(&path, exp).unwrap();
    let err = match Experiment::load(&path) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    // Keep the directory until the error is read.
    drop(dir);
    (err, manifest)
}

/// The error for the edited manifest, with its file name cut to `web.yaml`.
fn yaml_error(from: &str, to: &str) -> String {
    let (err, manifest) = error_with(
        |y| {
            assert!(y.contains(from), "the sample holds {from:?}");
            y.replacen(from, to, 1)
        },
        "",
    );
    err.replace(&manifest.display().to_string(), "web.yaml")
}

#[test]
fn a_missing_field_is_named_with_what_is_allowed() {
    let err = yaml_error("  maxReplicas: 100\n", "");
    assert_eq!(
        err,
        "web.yaml:58:3: field `spec`: missing field `maxReplicas`; allowed: a whole number, at least minReplicas"
    );
    let err = yaml_error(
        "              cpu: \"1\"\n              memory: 512Mi\n",
        "              memory: 512Mi\n",
    );
    assert!(
        err.starts_with("web.yaml:38:15: field `spec.template.spec.containers[0].resources.requests`: missing field `cpu`"),
        "{err}"
    );
}

#[test]
fn a_wrong_unit_or_bad_quantity_is_located() {
    let err = yaml_error("memory: 512Mi", "memory: 512MB");
    assert_eq!(
        err,
        "web.yaml:39:23: field `spec.template.spec.containers[0].resources.requests.memory`: `512MB`: unit `MB` is not a Kubernetes suffix; allowed: a quantity such as \"250m\", \"1.5\", \"512Mi\" or \"2G\" (suffixes m, k, M, G, T, P, Ki, Mi, Gi, Ti, Pi)"
    );
    let err = yaml_error(
        "              cpu: \"1\"\n              memory: 512Mi",
        "              cpu: 1000mc\n              memory: 512Mi",
    );
    assert!(err.starts_with("web.yaml:38:20: field `spec.template.spec.containers[0].resources.requests.cpu`: `1000mc` is not a CPU quantity"), "{err}");
    let err = yaml_error("averageUtilization: 70", "averageUtilization: seventy");
    assert!(err.starts_with("web.yaml:70:31: field `spec.metrics[0].resource.target.averageUtilization`: `seventy`; allowed: a whole number from 1 to 1000"), "{err}");
    let err = yaml_error("periodSeconds: 10", "periodSeconds: 0");
    assert!(
        err.contains("readinessProbe.periodSeconds`: `0`; allowed: a whole number from 1 to 3600"),
        "{err}"
    );
}

#[test]
fn an_unknown_kind_version_metric_type_or_field_says_so() {
    let err = yaml_error("kind: HorizontalPodAutoscaler", "kind: Service");
    assert_eq!(
        err,
        "web.yaml:54:7: field `kind`: kind `Service` is not read; allowed: Deployment, HorizontalPodAutoscaler"
    );
    let err = yaml_error("apiVersion: autoscaling/v2", "apiVersion: autoscaling/v1");
    assert!(err.starts_with("web.yaml:53:13: field `apiVersion`: `autoscaling/v1` is not read; allowed: autoscaling/v2"), "{err}");
    let err = yaml_error("    - type: Resource\n", "    - type: ContainerResource\n");
    assert!(err.starts_with("web.yaml:65:13: field `spec.metrics[0].type`: metric type `ContainerResource` is not read; allowed: Resource, Pods, Object, External"), "{err}");
    let err = yaml_error("name: cpu\n", "name: ephemeral-storage\n");
    assert!(
        err.contains(
            "field `spec.metrics[0].resource.name`: `ephemeral-storage`; allowed: cpu, memory"
        ),
        "{err}"
    );
    let err = yaml_error("          type: Utilization\n", "          type: Value\n");
    assert!(
        err.contains("target type `Value`; allowed here: Utilization, AverageValue"),
        "{err}"
    );
    let err = yaml_error("  minReplicas: 14\n", "  minReplicas: 14\n  replicas: 3\n");
    assert!(err.starts_with("web.yaml:63:13: field `spec.replicas`: field `replicas` is not read here; allowed: scaleTargetRef"), "{err}");
    let err = yaml_error(
        "    name: web\n  minReplicas",
        "    name: api\n  minReplicas",
    );
    assert!(
        err.contains("scales `api`, but the Deployment is `web`"),
        "{err}"
    );
}

#[test]
fn a_metric_the_world_does_not_measure_is_refused() {
    let metric = "    - type: Pods\n      pods:\n        metric:\n          name: queue_depth\n        target:\n          type: AverageValue\n          averageValue: \"5\"\n  behavior:";
    let err = yaml_error("  behavior:", metric);
    assert!(err.contains("field `spec.metrics[1].pods.metric.name`: metric `queue_depth` is not one the simulated world measures; allowed: requests_per_second"), "{err}");
}

#[test]
fn the_estate_and_the_manifests_may_not_both_set_a_field() {
    let (err, _) = error_with(|y| y.to_string(), "\n[startup]\nprobe_period = \"5s\"\n");
    assert!(
        err.contains("field `startup.probe_period`: is set by the readiness probe in `manifests`"),
        "{err}"
    );
    let (err, _) = error_with(|y| y.to_string(), "\n[hpa]\nmax_replicas = 10\n");
    assert!(
        err.contains(
            "field `hpa.max_replicas`: is set by the HorizontalPodAutoscaler in `manifests`"
        ),
        "{err}"
    );
    let (err, _) = error_with(
        |y| {
            y.replace("averageUtilization: 70", "averageUtilization: 70\n    - type: Resource\n      resource:\n        name: memory\n        target:\n          type: AverageValue\n          averageValue: 1Gi")
        },
        "",
    );
    assert!(
        err.contains("field `deployment.memory_base`: missing"),
        "{err}"
    );
}

#[test]
fn a_manifest_that_is_not_there_is_named() {
    let path = story("spike-k8s.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("k8s/web.yaml", "k8s/nope.yaml");
    let source = cutover::scenario::Source::from_text(&path, text);
    let err = Experiment::from_source(&source)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("field `deployment.manifests`: cannot read `")
            && err.contains("k8s/nope.yaml`"),
        "{err}"
    );
}

#[test]
fn an_estate_without_hpa_or_manifests_names_what_is_missing() {
    let path = story("estate.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("[hpa]\n").expect("the story has an [hpa]");
    let end = start + text[start..].find("\n\n").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]);
    let source = cutover::scenario::Source::from_text(&path, text);
    let err = cutover::estate::Estate::from_source(&source)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("field `hpa`: missing; allowed: an [hpa] section, or an HPA in `manifests`"),
        "{err}"
    );
}
