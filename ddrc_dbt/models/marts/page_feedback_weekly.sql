{#-
  How helpful the public finds each page, per week. Weeks are ISO weeks (Monday start)
  in Pacific time, the time zone of the people the site serves, so a Sunday-evening
  submission counts in the week it was made. Deleted submissions and submissions without
  an answer are left out. No free-text comments reach this model (staging drops them).
-#}
with feedback as (

    select * from {{ ref('stg_feedback__page_feedback') }}
    where not is_deleted
        and is_helpful is not null

),

weekly as (

    select
        site_domain,
        page,
        cast({{ dbt.date_trunc('week', utc_to_local('submitted_at', 'America/Los_Angeles')) }} as date)
            as week_start,
        count(case when is_helpful then 1 end) as helpful_count,
        count(case when not is_helpful then 1 end) as not_helpful_count,
        count(*) as response_count
    from feedback
    group by site_domain, page, week_start

)

select
    site_domain,
    page,
    week_start,
    helpful_count,
    not_helpful_count,
    response_count,
    {{ to_decimal('helpful_count * 1.0 / response_count', 5, 4) }} as helpful_rate
from weekly
