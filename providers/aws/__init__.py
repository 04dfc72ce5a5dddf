"""AWS: inventory, CloudWatch metrics and guarded actions, one provider per service."""
