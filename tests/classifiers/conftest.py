from tests.classifier_fixtures import seed_model, seed_store_dir, seed_store_template  # noqa: F401
