//! Catalog tables: registering and deregistering nodes, services and checks, and the
//! catalog's read queries.

use std::collections::BTreeMap;
use std::sync::Arc;

use proconsul_api::{
    AgentService, CatalogDeregistration, CatalogRegistration, CatalogService, HealthCheck, Node,
};

use crate::command::CommandOutcome;
use crate::state::{Key, NodeScopedKey, State, Table, scoped_key};

impl State {
    pub(crate) fn apply_register(
        &mut self,
        index: u64,
        registration: &CatalogRegistration,
    ) -> CommandOutcome {
        if let Err(message) = self.validate_register(registration) {
            return CommandOutcome::Rejected(message);
        }
        let node_name = registration.node.as_str();
        let node_exists = self.nodes.contains_key(node_name);
        if !(registration.skip_node_update && node_exists) {
            self.upsert_node(index, registration);
        }
        if let Some(service) = &registration.service {
            self.upsert_service(index, node_name, service);
        }
        for check in registration.check.iter().chain(&registration.checks) {
            self.upsert_check(index, node_name, check);
        }
        CommandOutcome::Done
    }

    /// Everything that could make a registration fail is checked before anything is
    /// written, so a registration is all or nothing.
    fn validate_register(&self, registration: &CatalogRegistration) -> Result<(), String> {
        if registration.node.is_empty() {
            return Err("Must provide node".to_string());
        }
        // As Consul: SkipNodeUpdate waives the address even for a node not yet known (the
        // node is then created with what the registration carries).
        if registration.address.is_empty() && !registration.skip_node_update {
            return Err("Must provide address".to_string());
        }
        if let Some(service) = &registration.service
            && service.service.is_empty()
        {
            return Err("Must provide service name".to_string());
        }
        let new_service_id = registration
            .service
            .as_ref()
            .map(|service| service_id_of(service).to_string());
        for check in registration.check.iter().chain(&registration.checks) {
            if check.check_id.is_empty() {
                return Err("Must provide check ID".to_string());
            }
            if !check.service_id.is_empty()
                && new_service_id.as_deref() != Some(check.service_id.as_str())
                && !self
                    .services
                    .contains_key(&scoped_key(&registration.node, &check.service_id))
            {
                return Err(format!(
                    "Unknown service ID '{}' for check ID '{}'",
                    check.service_id, check.check_id
                ));
            }
        }
        Ok(())
    }

    fn upsert_node(&mut self, index: u64, registration: &CatalogRegistration) {
        let existing = self.nodes.get(registration.node.as_str()).cloned();
        let mut node = Node {
            id: registration.id.clone(),
            node: registration.node.clone(),
            address: registration.address.clone(),
            datacenter: registration.datacenter.clone(),
            tagged_addresses: registration.tagged_addresses.clone(),
            meta: registration.node_meta.clone(),
            create_index: index,
            modify_index: index,
        };
        if let Some(existing) = existing {
            node.create_index = existing.create_index;
            node.modify_index = existing.modify_index;
            if *existing == node {
                return;
            }
            node.modify_index = index;
        }
        self.nodes.insert(Key::new(&node.node), Arc::new(node));
        self.table_indexes.bump(Table::Nodes, index);
        self.bump_services_on_node(&registration.node, index);
    }

    fn upsert_service(&mut self, index: u64, node: &str, service: &AgentService) {
        let mut stored = service.clone();
        stored.id = service_id_of(service).to_string();
        stored.create_index = index;
        stored.modify_index = index;
        let key = scoped_key(node, &stored.id);
        let existing = self.services.get(&key).cloned();
        if let Some(existing) = &existing {
            stored.create_index = existing.create_index;
            stored.modify_index = existing.modify_index;
            if **existing == stored {
                return;
            }
            stored.modify_index = index;
            if existing.service != stored.service {
                self.remove_instance_from_name(&existing.service, &key, index);
            }
        }
        let name = stored.service.clone();
        self.instances_by_name
            .entry(Key::new(&name))
            .or_default()
            .insert(key.clone());
        self.services.insert(key, Arc::new(stored));
        self.table_indexes.bump(Table::Services, index);
        self.bump_service(&name, index);
    }

    fn upsert_check(&mut self, index: u64, node: &str, check: &HealthCheck) {
        let mut stored = check.clone();
        stored.node = node.to_string();
        if !stored.service_id.is_empty()
            && let Some(service) = self.services.get(&scoped_key(node, &stored.service_id))
        {
            stored.service_name = service.service.clone();
            stored.service_tags = service.tags.clone();
        }
        let key = scoped_key(node, &stored.check_id);
        stored.create_index = index;
        stored.modify_index = index;
        if let Some(existing) = self.checks.get(&key) {
            stored.create_index = existing.create_index;
            stored.modify_index = existing.modify_index;
            if **existing == stored {
                return;
            }
            stored.modify_index = index;
        }
        let service_name = stored.service_name.clone();
        let node_level = stored.service_id.is_empty();
        self.checks.insert(key, Arc::new(stored));
        self.table_indexes.bump(Table::Checks, index);
        if node_level {
            self.bump_services_on_node(node, index);
        } else {
            self.bump_service(&service_name, index);
        }
    }

    pub(crate) fn apply_deregister(
        &mut self,
        index: u64,
        deregistration: &CatalogDeregistration,
    ) -> CommandOutcome {
        let node = deregistration.node.as_str();
        if node.is_empty() {
            return CommandOutcome::Rejected("Must provide node".to_string());
        }
        if !deregistration.service_id.is_empty() {
            self.delete_service(index, node, &deregistration.service_id);
        }
        if !deregistration.check_id.is_empty() {
            self.delete_check(index, node, &deregistration.check_id);
        }
        if deregistration.service_id.is_empty() && deregistration.check_id.is_empty() {
            self.delete_node(index, node);
        }
        CommandOutcome::Done
    }

    fn delete_node(&mut self, index: u64, node: &str) {
        if self.nodes.remove(node).is_none() {
            return;
        }
        self.table_indexes.bump(Table::Nodes, index);
        self.delete_node_coordinates(index, node);
        let service_ids: Vec<String> = self
            .services_on_node(node)
            .map(|service| service.id.clone())
            .collect();
        for service_id in service_ids {
            self.delete_service(index, node, &service_id);
        }
        let check_ids: Vec<String> = self
            .checks_on_node(node)
            .map(|check| check.check_id.clone())
            .collect();
        for check_id in check_ids {
            self.delete_check(index, node, &check_id);
        }
    }

    fn delete_service(&mut self, index: u64, node: &str, service_id: &str) {
        let key = scoped_key(node, service_id);
        let Some(service) = self.services.remove(&key) else {
            return;
        };
        self.table_indexes.bump(Table::Services, index);
        self.remove_instance_from_name(&service.service, &key, index);
        let check_ids: Vec<String> = self
            .checks_on_node(node)
            .filter(|check| check.service_id == service_id)
            .map(|check| check.check_id.clone())
            .collect();
        for check_id in check_ids {
            self.delete_check(index, node, &check_id);
        }
    }

    fn delete_check(&mut self, index: u64, node: &str, check_id: &str) {
        let Some(check) = self.checks.remove(&scoped_key(node, check_id)) else {
            return;
        };
        self.table_indexes.bump(Table::Checks, index);
        if check.service_id.is_empty() {
            self.bump_services_on_node(node, index);
        } else {
            self.bump_service(&check.service_name, index);
        }
    }

    fn remove_instance_from_name(&mut self, name: &str, key: &NodeScopedKey, index: u64) {
        if let Some(instances) = self.instances_by_name.get_mut(name) {
            instances.remove(key);
            if instances.is_empty() {
                self.instances_by_name.remove(name);
            }
        }
        self.bump_service(name, index);
    }

    /// All nodes, ordered by name.
    pub fn nodes(&self) -> impl Iterator<Item = &Arc<Node>> {
        self.nodes.values()
    }

    /// One node by name.
    pub fn node(&self, name: &str) -> Option<&Arc<Node>> {
        self.nodes.get(name)
    }

    /// Every service name with the union of its instances' tags, as
    /// `/v1/catalog/services` shows them.
    pub fn service_names(&self) -> BTreeMap<String, Vec<String>> {
        self.instances_by_name
            .iter()
            .map(|(name, instances)| {
                let mut tags: Vec<String> = instances
                    .iter()
                    .filter_map(|key| self.services.get(key))
                    .flat_map(|service| service.tags.iter().cloned())
                    .collect();
                tags.sort();
                tags.dedup();
                (name.to_string(), tags)
            })
            .collect()
    }

    /// The registered spelling of a service name, matched without regard to case (DNS
    /// names are case-insensitive; the catalog's keys are not). Exact matches are free;
    /// others scan the service names.
    pub fn service_name_ignoring_case(&self, name: &str) -> Option<&str> {
        if let Some((found, _)) = self.instances_by_name.get_key_value(name) {
            return Some(found);
        }
        self.instances_by_name
            .keys()
            .find(|candidate| candidate.eq_ignore_ascii_case(name))
            .map(Key::as_str)
    }

    /// A node by name, matched without regard to case; exact matches first.
    pub fn node_ignoring_case(&self, name: &str) -> Option<&Arc<Node>> {
        self.nodes.get(name).or_else(|| {
            self.nodes
                .iter()
                .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
                .map(|(_, node)| node)
        })
    }

    /// Every service instance with its node, in key order (reverse lookups scan these).
    pub fn all_instances(&self) -> impl Iterator<Item = (&Arc<Node>, &Arc<AgentService>)> {
        self.services.iter().filter_map(|(key, service)| {
            let node = self.nodes.get(key.0.as_str())?;
            Some((node, service))
        })
    }

    /// The instances of service `name` with the node each runs on, ordered by node.
    pub fn service_instances(
        &self,
        name: &str,
    ) -> impl Iterator<Item = (&Arc<Node>, &Arc<AgentService>)> {
        self.instances_by_name
            .get(name)
            .into_iter()
            .flat_map(|instances| instances.iter())
            .filter_map(|key| {
                let service = self.services.get(key)?;
                let node = self.nodes.get(key.0.as_str())?;
                Some((node, service))
            })
    }

    /// `/v1/catalog/service/:name` rows.
    pub fn catalog_service(&self, name: &str) -> Vec<CatalogService> {
        self.service_instances(name)
            .map(|(node, service)| catalog_row(node, service))
            .collect()
    }

    /// The instances that can accept Connect traffic for service `name`: proxies whose
    /// destination is `name`, and instances of `name` that speak Connect natively.
    /// (A scan of all services; an index by destination can come with the mesh work.)
    pub fn connect_instances(
        &self,
        name: &str,
    ) -> impl Iterator<Item = (&Arc<Node>, &Arc<AgentService>)> {
        self.services
            .iter()
            .filter_map(move |((node, _), service)| {
                let proxies_for_name = service.kind == "connect-proxy"
                    && service
                        .proxy
                        .as_ref()
                        .is_some_and(|proxy| proxy.destination_service_name == name);
                let native = service.service == name
                    && service
                        .connect
                        .as_ref()
                        .is_some_and(|connect| connect.native);
                if !(proxies_for_name || native) {
                    return None;
                }
                Some((self.nodes.get(node.as_str())?, service))
            })
    }

    /// `/v1/catalog/connect/:name` rows.
    pub fn catalog_connect(&self, name: &str) -> Vec<CatalogService> {
        self.connect_instances(name)
            .map(|(node, service)| catalog_row(node, service))
            .collect()
    }

    /// The services on `node`, ordered by ID.
    pub fn node_services(&self, node: &str) -> Vec<Arc<AgentService>> {
        self.services_on_node(node).cloned().collect()
    }

    /// One service instance on `node`.
    pub fn node_service(&self, node: &str, service_id: &str) -> Option<&Arc<AgentService>> {
        self.services.get(&scoped_key(node, service_id))
    }
}

/// The ID a service is stored under: its `ID`, or its name when no ID was given.
fn service_id_of(service: &AgentService) -> &str {
    if service.id.is_empty() {
        &service.service
    } else {
        &service.id
    }
}

fn catalog_row(node: &Node, service: &AgentService) -> CatalogService {
    CatalogService {
        id: node.id.clone(),
        node: node.node.clone(),
        address: node.address.clone(),
        datacenter: node.datacenter.clone(),
        tagged_addresses: node.tagged_addresses.clone(),
        node_meta: node.meta.clone(),
        service_kind: service.kind.clone(),
        service_id: service.id.clone(),
        service_name: service.service.clone(),
        service_tags: service.tags.clone(),
        service_address: service.address.clone(),
        service_tagged_addresses: service.tagged_addresses.clone(),
        service_weights: service.weights,
        service_meta: service.meta.clone(),
        service_port: service.port,
        service_enable_tag_override: service.enable_tag_override,
        service_proxy: service.proxy.as_deref().cloned(),
        service_connect: service.connect.clone(),
        service_locality: service.locality.as_deref().cloned(),
        create_index: service.create_index,
        modify_index: service.modify_index,
    }
}
