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

    pub(super) fn grant_role(
        &mut self,
        principal: PrincipalId,
        grant: &Grant,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        if self.state.roles.is_open() {
            return Err(Reject::RolesOpen);
        }
        let roles = self
            .state
            .roles
            .granted(principal, grant)
            .map_err(Reject::InvalidRoles)?;
        self.state.roles = roles;
        out.push(Event::RoleGranted {
            principal,
            grant: grant.clone(),
        });
        Ok(())
    }

    pub(super) fn revoke_role(
        &mut self,
        principal: PrincipalId,
        grant: &Grant,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        if self.state.roles.is_open() {
            return Err(Reject::RolesOpen);
        }
        let roles = self
            .state
            .roles
            .revoked(principal, grant)
            .map_err(Reject::InvalidRoles)?;
        self.state.roles = roles;
        out.push(Event::RoleRevoked {
            principal,
            grant: grant.clone(),
        });
        Ok(())
    }
}
