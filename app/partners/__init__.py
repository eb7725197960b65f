"""Partner units and providers (organisations), co-building agreements, in-service registration
and the resource, need and project lists."""
