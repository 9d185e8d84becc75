extension LeaseBook {
    /// The site a number belongs to: through its pool, a static number, or the site's own numbers
    /// (default, page, unsegmented). What FastAGI routing reads to know which site a call is for.
    public func site(owning number: PhoneNumber) -> Site? {
        let sites = allSites
        if let pool = pool(of: number), let site = sites.first(where: { $0.pools.contains { $0.id == pool } }) { return site }
        return sites.first { site in
            site.staticNumbers.contains { $0.number == number } || site.defaultNumber == number
                || site.pageNumbers.contains(number) || site.unsegmentedNumber == number
        }
    }
}
