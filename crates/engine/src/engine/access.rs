//! The role registry's controller: sealing it once at genesis, and the grant and revoke
//! commands that only an executed proposal runs (the rules are in [`crate::roles`]).

use super::*;
use crate::ids::PrincipalId;
use crate::roles::{Grant, Holder, Roles};

impl Engine {
    /// Installs the registry; the engine stops trusting `role` labels from here on.
    pub(super) fn seal_roles(
        &mut self,
        holders: &[Holder],
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        if !self.state.roles.is_open() {
            return Err(Reject::RolesAlreadySealed);
        }
        let roles = Roles::sealed(holders).map_err(Reject::InvalidRoles)?;
        out.push(Event::RolesSealed {
            holders: roles.holders.clone(),
        });
        self.state.roles = roles;
        Ok(())
    }

    /// A grant (`add`) or a revoke, run by an executed proposal on a sealed registry.
    pub(super) fn change_role(
        &mut self,
        principal: PrincipalId,
        grant: &Grant,
        add: bool,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let roles = &self.state.roles;
        if roles.is_open() {
            return Err(Reject::RolesOpen);
        }
        let changed = if add {
            roles.granted(principal, grant)
        } else {
            roles.revoked(principal, grant)
        };
        self.state.roles = changed.map_err(Reject::InvalidRoles)?;
        let grant = grant.clone();
        out.push(if add {
            Event::RoleGranted { principal, grant }
        } else {
            Event::RoleRevoked { principal, grant }
        });
        Ok(())
    }
}
