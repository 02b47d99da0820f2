"""Models by name through `timm.create_model`, with weights from a local file or folder (never downloaded)."""
