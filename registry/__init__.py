"""The registry's Python client: log, link, alias, tag and download artifact versions.

    import registry

    with registry.run(project="acme/vision/imagenet", job_type="train") as run:
        data = run.use_artifact("acme/dataset/imagenet-subset:latest").download()
        version = run.log_artifact("out/model", name="resnet50", type="model",
                                   metrics={"accuracy": 0.91})
        run.link_artifact(version, "acme/model/resnet-classifier", aliases=["staging"])

The server and token come from REGISTRY_URL and REGISTRY_TOKEN, or from `registry login`.
Only the Python standard library is used, so training images need nothing extra.
"""

from registry.client import Client, RegistryError, Run, run

__all__ = ["Client", "RegistryError", "Run", "run"]
